using Google.Protobuf;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Embedding;

/// <summary>
/// Makes the int8 backbone from the prepared float graph and the calibrated <see cref="ActivationRanges"/>, at load:
/// static QDQ quantization in the form ONNX Runtime fuses into integer kernels (docs/design.md, "The int8 backbone").
/// <list type="number">
/// <item>BatchNormalization after a Conv is folded into the Conv's weights and bias (W' = W γ/σ, b' = (b - μ) γ/σ + β).</item>
/// <item>Every activation a Conv, Add or MaxPool reads gets a QuantizeLinear/DequantizeLinear pair (uint8, the calibrated
/// range widened to hold 0, so 0 is exact and padding stays zero).</item>
/// <item>A Relu whose input is only its own becomes the following quantization: its range starts at 0, so the uint8
/// step clamps negatives exactly as the Relu did, and DequantizeLinear → Conv → QuantizeLinear stays one fusable group.</item>
/// <item>Nodes that stay float32 read the float value (a layer output read by the embedding head keeps its Relu): the patch features
/// carry no extra rounding, and the bank's rows are as fine as the float backbone's.</item>
/// <item>Conv weights become int8 with one symmetric scale per output channel; biases int32 at input scale × weight scale.</item>
/// <item>A MaxPool's output takes its input's range, so ONNX Runtime runs it on the uint8 values.</item>
/// </list>
/// Everything else (the input normalisation, the embedding head, a Relu or Add no quantized node reads) stays float32.
/// </summary>
public static class BackboneQuantizer
{
    private static readonly string[] QuantizedOps = ["Conv", "Add", "MaxPool"];
    private const float DeadChannelScale = 1e-6f;

    /// <summary>The activation tensors whose ranges <see cref="ActivationCalibrator"/> measures, in graph order.</summary>
    public static string[] CalibratedTensors(byte[] floatOnnx)
    {
        var graph = ModelProto.Parser.ParseFrom(floatOnnx).Graph;
        FoldBatchNormalization(graph);
        return QuantizedActivations(graph);
    }

    /// <summary>The QDQ model of <paramref name="backbone"/>; needs its <see cref="PreparedBackbone.Ranges"/>.</summary>
    public static byte[] Quantize(PreparedBackbone backbone)
    {
        var ranges = backbone.Ranges ?? throw new BackboneException("the model has no calibrated activation ranges for an int8 backbone; " +
            "rebuild it with this trainer");
        var model = ModelProto.Parser.ParseFrom(backbone.Onnx);
        var graph = model.Graph;
        FoldBatchNormalization(graph);
        var activations = QuantizedActivations(graph);
        var quantized = activations.ToHashSet();
        RemoveRelusBeforeQuantization(graph, quantized);

        var parameters = new Dictionary<string, (float Scale, byte ZeroPoint)>();
        foreach (var tensor in activations) parameters[tensor] = ActivationParameters(ranges[tensor]);
        foreach (var pool in graph.Node.Where(n => n.OpType == "MaxPool" && quantized.Contains(n.Output[0]) && quantized.Contains(n.Input[0])))
            parameters[pool.Output[0]] = parameters[pool.Input[0]];

        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var nodes = new List<NodeProto>();
        var graphInputs = graph.Input.Select(i => i.Name).Where(quantized.Contains);
        foreach (var tensor in graphInputs) nodes.AddRange(QuantizePair(graph, tensor, parameters[tensor]));
        foreach (var node in graph.Node)
        {
            bool integer = QuantizedOps.Contains(node.OpType);
            for (int i = 0; i < node.Input.Count; i++)
                if (quantized.Contains(node.Input[i]) && integer) node.Input[i] += "_dq";
            if (node.OpType == "Conv") nodes.AddRange(QuantizeConvParameters(graph, node, initializers, parameters));
            nodes.Add(node);
            foreach (var output in node.Output.Where(quantized.Contains)) nodes.AddRange(QuantizePair(graph, output, parameters[output]));
        }
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        DropUnusedInitializers(graph);
        return model.ToByteArray();
    }

    /// <summary>Activation (non-constant) inputs of the nodes that run in int8.</summary>
    private static string[] QuantizedActivations(GraphProto graph)
    {
        var constants = graph.Initializer.Select(t => t.Name).ToHashSet();
        return graph.Node.Where(n => QuantizedOps.Contains(n.OpType))
            .SelectMany(n => n.OpType == "Conv" ? n.Input.Take(1) : n.Input)
            .Where(i => i.Length > 0 && !constants.Contains(i))
            .Distinct().ToArray();
    }

    /// <summary>Step 1: BatchNormalization → the preceding Conv's weights, where the Conv feeds nothing else.</summary>
    private static void FoldBatchNormalization(GraphProto graph)
    {
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var consumers = Consumers(graph);
        var producer = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var norm in graph.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (!producer.TryGetValue(norm.Input[0], out var conv) || conv.OpType != "Conv") continue;
            if (consumers[conv.Output[0]].Count != 1 || outputs.Contains(conv.Output[0])) continue;
            if (norm.Input.Skip(1).Any(i => !initializers.ContainsKey(i)) || !initializers.ContainsKey(conv.Input[1])) continue;
            var (gamma, beta, mean, variance) = (Floats(initializers[norm.Input[1]]), Floats(initializers[norm.Input[2]]),
                Floats(initializers[norm.Input[3]]), Floats(initializers[norm.Input[4]]));
            float epsilon = norm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var weightTensor = initializers[conv.Input[1]];
            var weights = Floats(weightTensor);
            int channels = (int)weightTensor.Dims[0], perChannel = weights.Length / channels;
            var bias = conv.Input.Count > 2 && conv.Input[2].Length > 0 ? Floats(initializers[conv.Input[2]]) : new float[channels];
            var folded = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                // γ/σ in double: the product is exact to float rounding whatever the variance's size.
                double factor = gamma[c] / Math.Sqrt(variance[c] + (double)epsilon);
                for (int k = 0; k < perChannel; k++) weights[c * perChannel + k] = (float)(weights[c * perChannel + k] * factor);
                folded[c] = (float)((bias[c] - mean[c]) * factor + beta[c]);
            }
            string name = conv.Output[0];
            graph.Initializer.Add(FloatTensor(name + "_w", [.. weightTensor.Dims], weights));
            graph.Initializer.Add(FloatTensor(name + "_b", [channels], folded));
            conv.Input[1] = name + "_w";
            if (conv.Input.Count > 2) conv.Input[2] = name + "_b";
            else conv.Input.Add(name + "_b");
            conv.Output[0] = norm.Output[0];
            graph.Node.Remove(norm);
        }
        DropUnusedInitializers(graph);
    }

    /// <summary>Step 3: a Relu between a Conv or Add and a quantized tensor is the quantization's clamp at 0.</summary>
    private static void RemoveRelusBeforeQuantization(GraphProto graph, HashSet<string> quantized)
    {
        var consumers = Consumers(graph);
        var producer = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var relu in graph.Node.Where(n => n.OpType == "Relu" && quantized.Contains(n.Output[0])).ToList())
        {
            if (!producer.TryGetValue(relu.Input[0], out var source) || source.OpType is not ("Conv" or "Add")) continue;
            if (consumers[relu.Output[0]].Any(c => !QuantizedOps.Contains(c.OpType))) continue; // a float reader needs the Relu's value
            if (consumers[relu.Input[0]].Count != 1 || outputs.Contains(relu.Input[0])) continue;
            source.Output[0] = relu.Output[0];
            graph.Node.Remove(relu);
        }
    }

    /// <summary>Steps 4: int8 weights per output channel and an int32 bias, each behind a DequantizeLinear.</summary>
    private static IEnumerable<NodeProto> QuantizeConvParameters(GraphProto graph, NodeProto conv, Dictionary<string, TensorProto> initializers,
        Dictionary<string, (float Scale, byte ZeroPoint)> parameters)
    {
        if (!initializers.TryGetValue(conv.Input[1], out var weightTensor)) yield break; // weights computed at run time: leave the Conv float
        string input = conv.Input[0].EndsWith("_dq", StringComparison.Ordinal) ? conv.Input[0][..^3] : conv.Input[0];
        if (!parameters.TryGetValue(input, out var inputParameters)) yield break;
        var weights = Floats(weightTensor);
        int channels = (int)weightTensor.Dims[0], perChannel = weights.Length / channels;
        var scales = new float[channels];
        var q = new sbyte[weights.Length];
        for (int c = 0; c < channels; c++)
        {
            var row = weights.AsSpan(c * perChannel, perChannel);
            float largest = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row);
            // A channel of zero weights (a dead filter) outputs its bias alone; a tiny scale keeps that bias exact in int32.
            scales[c] = largest != 0 ? Math.Abs(largest) / 127f : DeadChannelScale;
            for (int k = 0; k < perChannel; k++) q[c * perChannel + k] = (sbyte)Math.Clamp(MathF.Round(row[k] / scales[c]), -127, 127);
        }
        string w = conv.Input[1];
        graph.Initializer.Add(Int8Tensor(w + "_i8", [.. weightTensor.Dims], q));
        graph.Initializer.Add(FloatTensor(w + "_scale", [channels], scales));
        graph.Initializer.Add(Int8Tensor(w + "_zero", [channels], new sbyte[channels]));
        yield return Node("DequantizeLinear", [w + "_i8", w + "_scale", w + "_zero"], [w + "_dq"], Attr("axis", 0L));
        conv.Input[1] = w + "_dq";
        if (conv.Input.Count < 3 || conv.Input[2].Length == 0 || !initializers.TryGetValue(conv.Input[2], out var biasTensor)) yield break;
        var bias = Floats(biasTensor);
        var biasScales = new float[channels];
        var biasQ = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            biasScales[c] = inputParameters.Scale * scales[c];
            biasQ[c] = (int)Math.Clamp(Math.Round(bias[c] / (double)biasScales[c]), int.MinValue, int.MaxValue);
        }
        string b = conv.Input[2];
        graph.Initializer.Add(Int32Tensor(b + "_i32", [channels], biasQ));
        graph.Initializer.Add(FloatTensor(b + "_scale", [channels], biasScales));
        graph.Initializer.Add(Int32Tensor(b + "_zero", [channels], new int[channels]));
        yield return Node("DequantizeLinear", [b + "_i32", b + "_scale", b + "_zero"], [b + "_dq"], Attr("axis", 0L));
        conv.Input[2] = b + "_dq";
    }

    /// <summary>Step 2: uint8 over [min, max] widened to hold 0 (0 is then a whole step: zero padding stays exact).</summary>
    private static (float Scale, byte ZeroPoint) ActivationParameters((float Min, float Max) range)
    {
        float min = Math.Min(range.Min, 0f), max = Math.Max(range.Max, 0f);
        float scale = max > min ? (max - min) / 255f : 1f;
        return (scale, (byte)Math.Clamp(MathF.Round(-min / scale), 0, 255));
    }

    private static IEnumerable<NodeProto> QuantizePair(GraphProto graph, string tensor, (float Scale, byte ZeroPoint) p)
    {
        graph.Initializer.Add(FloatTensor(tensor + "_qscale", [], [p.Scale]));
        graph.Initializer.Add(UInt8Tensor(tensor + "_qzero", [], [p.ZeroPoint]));
        yield return Node("QuantizeLinear", [tensor, tensor + "_qscale", tensor + "_qzero"], [tensor + "_q"]);
        yield return Node("DequantizeLinear", [tensor + "_q", tensor + "_qscale", tensor + "_qzero"], [tensor + "_dq"]);
    }

    private static Dictionary<string, List<NodeProto>> Consumers(GraphProto graph)
    {
        var consumers = graph.Node.SelectMany(n => n.Output).Distinct().ToDictionary(o => o, _ => new List<NodeProto>());
        foreach (var node in graph.Node)
            foreach (var input in node.Input)
                if (consumers.TryGetValue(input, out var list)) list.Add(node);
        return consumers;
    }

    private static void DropUnusedInitializers(GraphProto graph)
    {
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet();
        var kept = graph.Initializer.Where(t => used.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(kept);
    }
}
