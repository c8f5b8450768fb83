using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace EdgePatchCore.Search;

/// <summary>
/// The ONNX graphs of the nearest-neighbour search. All rank bank rows m for a query q by
/// ||m||^2 - 2 q.m (||q||^2 is the same for every m of one query, so it is added afterwards).
/// </summary>
internal static class KnnGraphs
{
    /// <summary>Float32, k = 1: Gemm then ArgMin (one pass over the scores; TopK with k = 1 takes twice as long).</summary>
    public static ModelProto Nearest()
    {
        var g = Float32Scores();
        g.Node.Add(Node("ArgMin", ["scores"], ["index"], Attr("axis", 1L), Attr("keepdims", 1L)));
        g.Node.Add(Node("GatherElements", ["scores", "index"], ["partial"], Attr("axis", 1L)));
        AddOutputs(g);
        return Model(g);
    }

    /// <summary>Float32, any k: Gemm then TopK (sorted, nearest first).</summary>
    public static ModelProto TopK()
    {
        var g = Float32Scores();
        g.Input.Add(Tensor("k", DataType.Int64, 1));
        g.Node.Add(Node("TopK", ["scores", "k"], ["partial", "index"], Attr("axis", 1L), Attr("largest", 0L), Attr("sorted", 1L)));
        AddOutputs(g);
        return Model(g);
    }

    /// <summary>
    /// Int8 candidates, the whole selection in the graph (CUDA): MatMulInteger of the queries (one scale per run)
    /// with the int8 bank (one scale), minus per-row offsets ||m||^2 / (2 s_q s_m): the largest values are the
    /// nearest rows. The queries are int8 holding 0..127 (patch features are non-negative: averages of ReLU
    /// outputs), because ONNX Runtime's CUDA MatMulInteger has a kernel for int8 x int8 only.
    /// </summary>
    public static ModelProto Int8Candidates()
    {
        var g = Int8DotProducts("knn_int8", DataType.Int8);
        g.Input.Add(FloatTensor("offsets", "m"));
        g.Input.Add(Tensor("k", DataType.Int64, 1));
        g.Node.Add(Node("Cast", ["dots"], ["dots_float"], Attr("to", (long)DataType.Float)));
        g.Node.Add(Node("Sub", ["dots_float", "offsets"], ["scores"]));
        g.Node.Add(Node("TopK", ["scores", "k"], ["partial", "index"], Attr("axis", 1L), Attr("largest", 1L), Attr("sorted",
            0L))); // re-ranked anyway
        g.Output.Add(Tensor("index", DataType.Int64, "q", "k"));
        return Model(g);
    }

    /// <summary>
    /// Int8 dot products only (uint8 queries x int8 bank, int32 out: the CPU's VNNI instruction multiplies
    /// exactly that, so the queries keep all 8 bits). On the CPU the candidates are then picked
    /// in managed code (<see cref="Int8Kernels.SelectLargest"/>): ONNX Runtime's Cast + Sub + TopK over the
    /// same matrix took about as long as the MatMulInteger itself. With <paramref name="constantBank"/> (d x m)
    /// the bank is part of the graph rather than an input: ONNX Runtime then packs it for its GEMM once, when the
    /// session is made, instead of on every run (a quarter of the MatMulInteger's time on a frame).
    /// </summary>
    public static ModelProto Int8Dots(TensorProto? constantBank = null)
    {
        var g = Int8DotProducts("knn_int8_dots", DataType.Uint8);
        if (constantBank is not null)
        {
            g.Input.Remove(g.Input.Single(i => i.Name == "bank"));
            constantBank.Name = "bank";
            g.Initializer.Add(constantBank);
        }
        g.Output.Add(Tensor("dots", DataType.Int32, "q", "m"));
        return Model(g);
    }

    private static GraphProto Int8DotProducts(string name, DataType queryType)
    {
        var g = new GraphProto { Name = name };
        g.Input.Add(Tensor("query", queryType, "q", "d"));
        g.Input.Add(Tensor("bank", DataType.Int8, "d", "m"));
        g.Node.Add(Node("MatMulInteger", ["query", "bank"], ["dots"]));
        return g;
    }

    /// <summary>Float16 candidates: the Gemm in half precision (tensor cores on a GPU), then TopK.</summary>
    public static ModelProto Float16Candidates()
    {
        var g = new GraphProto { Name = "knn_float16" };
        g.Input.Add(Tensor("query", DataType.Float16, "q", "d"));
        g.Input.Add(Tensor("bank", DataType.Float16, "m", "d"));
        g.Input.Add(Tensor("bank_norms", DataType.Float16, "m"));
        g.Input.Add(Tensor("k", DataType.Int64, 1));
        g.Node.Add(Node("Gemm", ["query", "bank", "bank_norms"], ["scores"], Attr("alpha", -2f), Attr("beta", 1f), Attr("transB", 1L)));
        g.Node.Add(Node("TopK", ["scores", "k"], ["partial", "index"], Attr("axis", 1L), Attr("largest", 0L), Attr("sorted", 0L)));
        g.Output.Add(Tensor("index", DataType.Int64, "q", "k"));
        return Model(g);
    }

    /// <summary>An identity graph: run with its output bound to the device, it copies a tensor there once.</summary>
    public static ModelProto Upload(DataType type, int rank)
    {
        var dims = Enumerable.Range(0, rank).Select(i => (object)$"d{i}").ToArray();
        var g = new GraphProto { Name = "upload" };
        g.Input.Add(Tensor("host", type, dims));
        g.Node.Add(Node("Identity", ["host"], ["device"]));
        g.Output.Add(Tensor("device", type, dims));
        return Model(g);
    }

    private static GraphProto Float32Scores()
    {
        var g = new GraphProto { Name = "knn" };
        g.Input.Add(FloatTensor("query", "q", "d"));
        g.Input.Add(FloatTensor("bank", "m", "d"));
        g.Input.Add(FloatTensor("bank_norms", "m"));
        g.Node.Add(Node("Gemm", ["query", "bank", "bank_norms"], ["scores"], Attr("alpha", -2f), Attr("beta", 1f), Attr("transB", 1L)));
        return g;
    }

    private static void AddOutputs(GraphProto g)
    {
        g.Output.Add(FloatTensor("partial", "q", "k"));
        g.Output.Add(Tensor("index", DataType.Int64, "q", "k"));
    }
}
