namespace EdgePatchCore.Agent.Configuration;

public sealed class PipelineOptions
{
    /// <summary>Frames waiting for the scorer; live sources drop the oldest when it is full.</summary>
    public int QueueCapacity { get; set; } = 32;
    /// <summary>Frames scored together when they queue up.</summary>
    public int MaxBatch { get; set; } = 8;
    /// <summary>Most bytes of decoded frames a batch holds at once (a batch takes frames while their decoded size fits; one frame always).</summary>
    public long MaxBatchBytes { get; set; } = 512L << 20;
    /// <summary>The memory the agent may use, checked against the batch; 0: the service's MemoryMax (cgroup memory.max) when there is one.</summary>
    public long MemoryMaxBytes { get; set; }
}
