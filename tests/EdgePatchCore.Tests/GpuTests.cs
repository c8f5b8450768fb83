using EdgePatchCore.Devices;

namespace EdgePatchCore.Tests;

/// <summary>
/// Tests that run the device code paths. In CI they run on ONNX Runtime's CPU provider; packaging/gpu-check.sh
/// sets EDGEPATCHCORE_TEST_DEVICE=cuda and runs them (filter Category=Gpu), and then they fail unless CUDA is used.
/// </summary>
public static class GpuTests
{
    public const string Category = "Gpu";

    public static DeviceKind Device =>
        Environment.GetEnvironmentVariable("EDGEPATCHCORE_TEST_DEVICE") is { } text ? ExecutionDevice.Parse(text) : DeviceKind.Cpu;
}
