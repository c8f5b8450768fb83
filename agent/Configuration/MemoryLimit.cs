using System.Globalization;

namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// The memory the agent may use: Agent:Pipeline:MemoryMaxBytes when set, else the cgroup's memory.max (systemd's
/// MemoryMax= for the service; cgroup v2), else none known. The scoring batch is checked against it, so that a
/// configuration which could decode more frames at once than the unit allows is refused before it is killed for it.
/// </summary>
public static class MemoryLimit
{
    /// <summary>Bytes, or null when no limit is configured or known.</summary>
    public static long? Of(PipelineOptions pipeline) => pipeline.MemoryMaxBytes > 0 ? pipeline.MemoryMaxBytes : CgroupLimit();

    private static long? CgroupLimit()
    {
        try
        {
            // "0::/system.slice/edgepatchcore-agent.service" on cgroup v2
            string? line = File.ReadLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal));
            if (line is null) return null;
            string file = Path.Combine("/sys/fs/cgroup", line[3..].TrimStart('/'), "memory.max");
            if (!File.Exists(file)) return null;
            string text = File.ReadAllText(file).Trim();
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long bytes) ? bytes : null; // "max": none
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Null when the batch fits in half of <paramref name="limit"/> (the rest is for models and the runtime); else the problem.</summary>
    public static string? Check(AgentOptions options, long? limit)
    {
        if (limit is not { } max) return null;
        long frame = options.Limits.ResolvedMaxPixels * 3; // one decoded RGB frame of the largest size allowed
        long need = options.Pipeline.MaxBatchBytes + 2 * frame; // a batch may go one frame over its budget, and one more is decoding
        return need <= max / 2 ? null
            : $"Agent:Pipeline:MaxBatchBytes ({options.Pipeline.MaxBatchBytes >> 20} MiB) plus two of the largest frames decoded " +
                $"({2 * frame >> 20} MiB, " +
              $"Agent:Limits:MaxPixels) is over half of the memory the agent may use ({max >> 20} MiB, MemoryMax): lower them, or raise MemoryMax";
    }
}
