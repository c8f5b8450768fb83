using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgePatchCore.Search;

/// <summary>
/// Int8 on CUDA: the whole candidate selection in the graph (MatMulInteger, Cast, Sub of the offsets, TopK:
/// <see cref="KnnGraphs.Int8Candidates"/>) with the int8 bank in device memory. The queries go in as int8 holding
/// 0..127 (7 bits): ONNX Runtime's CUDA MatMulInteger takes int8 x int8 only, and a uint8 input would put the
/// node on the CPU, copying the bank back on every run.
/// </summary>
internal sealed class Int8DeviceSearch : Int8Search
{
    private const string Graph = "int8";

    public Int8DeviceSearch(float[] bank, int rows, int dimensions, KnnSession session)
        : base(bank, rows, dimensions, session, Float32Search.DistanceBudget, queryLevels: 127f)
    {
        Ort.Upload("bank", TransposedBank(), [dimensions, rows]);
    }

    // The same bytes (0..127) read as int8; the array is pinned, so its address stays put.
    private protected override OrtValue QueryTensor(int q) =>
        OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Int8, [q, Dimensions],
            Marshal.UnsafeAddrOfPinnedArrayElement(QueryBytes, 0), q * Dimensions);

    private protected override void FindCandidates(ReadOnlySpan<float> queries, int q, int width)
    {
        Quantize(queries);
        var run = Buffers.For(q, width);
        var binding = Ort.Binding(Graph, KnnGraphs.Int8Candidates, Offsets);
        Ort.SetK(width);
        binding.BindInput("query", run.Query);
        binding.BindOutput("index", run.Index);
        Ort.Run(Graph, binding);
    }
}
