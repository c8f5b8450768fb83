using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Devices;

/// <summary>Creates session options for the requested device and says which one is really in use.</summary>
public sealed class ExecutionDevice
{
    public DeviceKind Requested { get; }
    public DeviceKind Actual { get; private set; } = DeviceKind.Cpu;
    /// <summary>Why the CPU is used when CUDA was asked for or allowed; null when no fallback happened.</summary>
    public string? FallbackReason { get; private set; }
    public int Threads { get; }
    /// <summary>
    /// On CUDA, refuse to create any session (backbone or kNN) that ONNX Runtime would run partly on the CPU
    /// (<c>session.disable_cpu_ep_fallback</c>): what the GPU check needs to prove. Set by the environment variable
    /// <see cref="EveryNodeVariable"/>=1, so that a self-contained trainer on a GPU machine can be told without a new option.
    /// </summary>
    public bool RequireDeviceForEveryNode { get; }
    public const string EveryNodeVariable = "EDGEPATCHCORE_CUDA_EVERY_NODE";

    public ExecutionDevice(DeviceKind requested = DeviceKind.Auto, int threads = 0)
    {
        Requested = requested;
        Threads = threads > 0 ? threads : Environment.ProcessorCount;
        RequireDeviceForEveryNode = Environment.GetEnvironmentVariable(EveryNodeVariable) == "1";
    }

    public static DeviceKind Parse(string text) => text.ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" or "gpu" => DeviceKind.Cuda,
        _ => throw new ArgumentException($"unknown device '{text}' (expected auto, cpu or cuda)"),
    };

    /// <summary>
    /// Session options for the device. The CUDA decision is made on the first call and kept, so every
    /// session of one scorer runs on the same device and the fallback is logged once.
    /// </summary>
    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        // Each session has its own intra-op threads, which by default spin after a run waiting for more work. A
        // frame runs the backbone session and then the kNN session: the first one's spinning threads took the
        // two cores from the second (batch 1 on MTD: backbone 40-53 ms -> 19-22 ms and kNN 51-68 ms -> 28-33 ms
        // without spinning).
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _decided ??= Requested == DeviceKind.Cpu ? DeviceKind.Cpu : ProbeCuda();
        if (_decided == DeviceKind.Cpu) { Actual = DeviceKind.Cpu; return options; }
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            Actual = DeviceKind.Cuda;
            if (RequireDeviceForEveryNode) options.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1");
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            _decided = Actual = DeviceKind.Cpu;
            FallbackReason = FirstLine(e.Message);
            if (Requested == DeviceKind.Cuda)
                throw new InvalidOperationException($"CUDA was requested but cannot be used: {FallbackReason}", e);
        }
        return options;
    }

    private DeviceKind? _decided;

    /// <summary>The CUDA provider needs these; checking them first avoids ONNX Runtime's noisy load failure.</summary>
    private static readonly string[] CudaLibraries =
        ["libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10"];

    private DeviceKind ProbeCuda()
    {
        if (!OperatingSystem.IsLinux()) return DeviceKind.Cuda; // let ONNX Runtime decide elsewhere
        foreach (var lib in CudaLibraries)
        {
            if (System.Runtime.InteropServices.NativeLibrary.TryLoad(lib, out _)) continue;
            FallbackReason = lib == "libcuda.so.1" ? "no NVIDIA driver (libcuda.so.1 not found)" : $"CUDA runtime library {lib} not found";
            if (Requested == DeviceKind.Cuda) throw new InvalidOperationException($"CUDA was requested but cannot be used: {FallbackReason}");
            return DeviceKind.Cpu;
        }
        return DeviceKind.Cuda;
    }

    public string Describe() => Actual == DeviceKind.Cuda
        ? "CUDA (GPU 0)"
        : FallbackReason is null ? $"CPU ({Threads} threads)" : $"CPU ({Threads} threads; CUDA not available: {FallbackReason})";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
