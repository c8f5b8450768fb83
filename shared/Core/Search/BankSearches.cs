using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Search;

/// <summary>
/// The one place that picks a bank search for a precision and device (as the official PatchCore code picks its
/// faiss wrapper): a new precision or device path is one new <see cref="NearestNeighbourSearch"/> subclass and
/// one line here.
/// </summary>
public static class BankSearches
{
    /// <summary>
    /// A search over <paramref name="bank"/> (rows x dimensions, row-major, float32 as stored in the artifact;
    /// kept, not copied, by the float32 and int8 paths). <see cref="BankPrecision.Auto"/> is resolved for the device
    /// first (<see cref="BankPrecisions.Resolve"/>).
    /// </summary>
    public static NearestNeighbourSearch Create(float[] bank, int rows, int dimensions, ExecutionDevice device,
        BankPrecision precision = BankPrecision.Float32) =>
        Create(bank, rows, dimensions, device, precision, new SearchTuning());

    internal static NearestNeighbourSearch Create(float[] bank, int rows, int dimensions, ExecutionDevice device, BankPrecision precision,
        SearchTuning tuning)
    {
        using (device.CreateSessionOptions()) { } // decides CPU or CUDA before anything is uploaded
        var session = new KnnSession(device, tuning.RequireDeviceForEveryNode);
        try
        {
            return BankPrecisions.Resolve(precision, device).Precision switch
            {
                BankPrecision.Float32 => new Float32Search(bank, rows, dimensions, session),
                BankPrecision.Float16 => new Float16Search(bank, rows, dimensions, session),
                BankPrecision.Int8 when tuning.Int8SelectionInGraph ?? Int8QueriesSigned(device) => new Int8DeviceSearch(bank, rows, dimensions,
                    session),
                BankPrecision.Int8 => new Int8HostSearch(bank, rows, dimensions, session,
                    queryLevels: tuning.ReducedQueryRange ?? NeedsReducedQueryRange(device) ? 127f : 255f, tuning.ConstantBankLimit),
                _ => throw new ArgumentOutOfRangeException(nameof(precision)),
            };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the int8 path on this device feeds the GEMM signed queries (0..127 as int8: CUDA's MatMulInteger takes
    /// int8 x int8 only) rather than uint8; for benchmarks that time the bare GEMM the search runs.
    /// </summary>
    public static bool Int8QueriesSigned(ExecutionDevice device) => device.Actual == DeviceKind.Cuda;

    /// <summary>
    /// x86 CPUs without VNNI multiply uint8 by int8 with vpmaddubsw, which adds pairs of products into a
    /// saturating int16: 2 x 255 x 127 overflows it, 2 x 127 x 127 does not. There the queries use 7 bits (what
    /// ONNX Runtime's own quantiser calls reduce_range); the candidates are re-ranked exactly either way. VNNI
    /// (vpdpbusd) and ARM's dot products accumulate in int32, and so does CUDA.
    /// </summary>
    private static bool NeedsReducedQueryRange(ExecutionDevice device) =>
        device.Actual == DeviceKind.Cpu && X86Base.IsSupported && !AvxVnni.IsSupported && !Avx10v1.IsSupported;

    public static BankPrecision ParsePrecision(string text) => text.ToLowerInvariant() switch
    {
        "auto" => BankPrecision.Auto,
        "float32" or "fp32" => BankPrecision.Float32,
        "float16" or "fp16" or "half" => BankPrecision.Float16,
        "int8" => BankPrecision.Int8,
        _ => throw new ArgumentException($"unknown bank precision '{text}' (expected auto, float32, float16 or int8)"),
    };
}
