using System.Security.Cryptography;
using EdgePatchCore.Imaging;
using Google.Protobuf;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Embedding;

/// <summary>A backbone file that cannot be prepared (missing, not ONNX, unknown layer names).</summary>
public sealed class BackboneException(string message, Exception? inner = null) : Diagnostics.UserFacingException(message, inner);

/// <summary>
/// Turns a classification network into the PatchCore feature extractor, once, at build time:
/// keeps only the nodes the chosen layers need, makes batch/height/width dynamic, folds the
/// colour order and mean subtraction in (input: RGB float 0..1, NCHW), and appends the patch
/// embedding (3x3 average per layer, bilinear upsample to the finest grid, concat, to NHWC rows).
/// The result runs in ONNX Runtime on any execution provider; the agent never needs the source file.
/// </summary>
public static class BackbonePreparer
{
    public const string InputName = "image";
    public const string OutputName = "patches";

    public static PreparedBackbone Prepare(BackboneOptions options, InputSpec input) => Prepare(options, input, exposeLayers: false);

    /// <summary>With <paramref name="exposeLayers"/>, the raw layer outputs stay graph outputs too (for tests).</summary>
    internal static PreparedBackbone Prepare(BackboneOptions options, InputSpec input, bool exposeLayers)
    {
        string path = options.ModelPath ?? ResNet18.ModelPath;
        if (!File.Exists(path)) throw new BackboneException($"backbone file not found: {path}");
        byte[] bytes = File.ReadAllBytes(path);
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new BackboneException($"{path}: not an ONNX model ({e.Message})", e); }
        if (model.Graph is null || model.Graph.Node.Count == 0) throw new BackboneException($"{path}: ONNX file has no graph");

        var graph = model.Graph;
        var layers = options.Layers.Select(ResNet18.Resolve).ToArray();
        if (layers.Length == 0) throw new BackboneException("at least one layer is needed");
        var produced = graph.Node.SelectMany(n => n.Output).ToHashSet();
        var missing = layers.Where(l => !produced.Contains(l)).ToArray();
        if (missing.Length > 0)
            throw new BackboneException($"{path}: no tensor named {string.Join(", ", missing)} (the layer outputs must be node output names)");

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var realInputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToArray();
        if (realInputs.Length != 1) throw new BackboneException($"{path}: expected one image input, found {realInputs.Length}");
        string sourceInput = realInputs[0].Name;

        Prune(graph, layers);
        UpgradeToOpset(model);

        // New input and the folded-in preprocessing, in front of the original first node.
        var pre = new List<NodeProto>();
        string normalised = AddNormalisation(graph, pre, options.Normalization, input);
        foreach (var node in graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == sourceInput) node.Input[i] = normalised;

        graph.Input.Clear();
        graph.Input.Add(FloatTensor(InputName, "batch", 3, "height", "width"));
        graph.ValueInfo.Clear(); // the export's fixed 224 x 224 shapes would contradict dynamic sizes
        graph.Output.Clear();
        var network = graph.Node.ToList();
        graph.Node.Clear();
        graph.Node.AddRange(pre.Concat(network));
        foreach (var layer in layers) graph.Output.Add(FloatTensor(layer, "batch", "channels_" + layer, "h_" + layer, "w_" + layer));
        var channels = LayerChannels(graph, layers, input);
        graph.Output.Clear();

        var embedding = options.Aggregation == PatchAggregation.Reference
            ? ReferenceEmbeddingNodes(graph, layers, channels, options.LayerDimensions, options.TargetDimensions)
            : EmbeddingNodes(graph, layers);
        graph.Node.AddRange(embedding.ToList());
        graph.Output.Add(FloatTensor(OutputName, "batch", "rows", "cols", "dims"));
        if (exposeLayers)
            foreach (var layer in layers) graph.Output.Add(FloatTensor(layer, "batch", "channels_" + layer, "h_" + layer, "w_" + layer));
        int dimensions = options.Aggregation == PatchAggregation.Reference ? options.TargetDimensions : channels.Sum();

        return new PreparedBackbone
        {
            Onnx = model.ToByteArray(),
            Layers = layers,
            LayerChannels = channels,
            Normalization = options.Normalization,
            Aggregation = options.Aggregation,
            Dimensions = dimensions,
            Source = $"{Path.GetFileName(path)} sha256:{Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant()[..16]}",
        };
    }

    /// <summary>Keeps the nodes (and initializers) that the chosen layers depend on.</summary>
    private static void Prune(GraphProto graph, IEnumerable<string> outputs)
    {
        var producer = new Dictionary<string, NodeProto>();
        foreach (var n in graph.Node) foreach (var o in n.Output) producer[o] = n;
        var needed = new HashSet<NodeProto>();
        var stack = new Stack<string>(outputs);
        while (stack.Count > 0)
        {
            if (!producer.TryGetValue(stack.Pop(), out var node) || !needed.Add(node)) continue;
            foreach (var i in node.Input) stack.Push(i);
        }
        var keep = graph.Node.Where(needed.Contains).ToList(); // original order is topological
        graph.Node.Clear();
        graph.Node.AddRange(keep);
        var used = keep.SelectMany(n => n.Input).ToHashSet();
        var inits = graph.Initializer.Where(t => used.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(inits);
    }

    /// <summary>
    /// Resize with half-pixel centres (PyTorch's bilinear, align_corners=False) needs opset 11+.
    /// The CNTK export is opset 8; its only incompatibility is BatchNormalization's 'spatial'
    /// attribute (removed in opset 9, where spatial=1 became the only behaviour).
    /// </summary>
    private static void UpgradeToOpset(ModelProto model)
    {
        var current = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? Opset;
        if (current > Opset) return; // already newer: leave it
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "BatchNormalization"))
        {
            var spatial = node.Attribute.FirstOrDefault(a => a.Name == "spatial");
            if (spatial is null) continue;
            if (spatial.I != 1) throw new BackboneException("BatchNormalization with spatial=0 cannot be upgraded");
            node.Attribute.Remove(spatial);
        }
        foreach (var node in model.Graph.Node.Where(n => n.OpType is "Dropout" or "Upsample"))
            throw new BackboneException($"backbone uses {node.OpType} before the chosen layers; export it at opset {Opset} or newer");
        model.OpsetImport.Clear();
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (model.IrVersion < 7) model.IrVersion = 7;
    }

    private static string AddNormalisation(GraphProto graph, List<NodeProto> nodes, InputNormalization norm, InputSpec input)
    {
        if (norm == InputNormalization.ImageNet)
        {
            graph.Initializer.Add(FloatTensor("pre_mean", [1, 3, 1, 1], [0.485f, 0.456f, 0.406f]));
            graph.Initializer.Add(FloatTensor("pre_std", [1, 3, 1, 1], [0.229f, 0.224f, 0.225f]));
            nodes.Add(Node("Sub", [InputName, "pre_mean"], ["pre_centred"]));
            nodes.Add(Node("Div", ["pre_centred", "pre_std"], ["pre_normalised"]));
            return "pre_normalised";
        }
        graph.Initializer.Add(FloatTensor("pre_255", [], [255f]));
        graph.Initializer.Add(Int64Tensor("pre_bgr", [3], [2, 1, 0]));
        nodes.Add(Node("Mul", [InputName, "pre_255"], ["pre_rgb255"]));
        nodes.Add(Node("Gather", ["pre_rgb255", "pre_bgr"], ["pre_bgr255"], Attr("axis", 1)));
        var (dims, mean) = norm == InputNormalization.Bgr255MeanImage
            ? ([1L, 3, input.Height, input.Width], MeanImage.Load(input.Width, input.Height))
            : (new long[] { 1, 3, 1, 1 }, MeanImage.ChannelMeansBgr);
        graph.Initializer.Add(FloatTensor("pre_mean", dims, mean));
        nodes.Add(Node("Sub", ["pre_bgr255", "pre_mean"], ["pre_normalised"]));
        return "pre_normalised";
    }

    /// <summary>PatchCore's locally aware patch features: 3x3 average per layer, upsample, concat.</summary>
    private static IEnumerable<NodeProto> EmbeddingNodes(GraphProto graph, string[] layers)
    {
        var pooled = new List<string>();
        for (int i = 0; i < layers.Length; i++)
        {
            yield return Node("AveragePool", [layers[i]], [$"emb_pool{i}"],
                Attr("kernel_shape", 3, 3), Attr("strides", 1, 1), Attr("pads", 1, 1, 1, 1), Attr("count_include_pad", 0));
            pooled.Add($"emb_pool{i}");
        }
        foreach (var node in UpsampleToFirstGrid(graph, pooled)) yield return node;
        yield return Node("Concat", pooled, ["emb_nchw"], Attr("axis", 1));
        yield return Node("Transpose", ["emb_nchw"], [OutputName], Attr("perm", 0, 2, 3, 1));
    }

    /// <summary>
    /// The official PatchCore aggregation. For layer l the composition "unfold 3x3 (zero padding) -> adaptive
    /// average pool C*9 -> P -> its share of the layer-stack pool L*P -> T" is linear: a T x C*9 matrix per layer.
    /// Each output averages only a few neighbouring unfolded values, so the matrix is almost all zeros (ResNet18:
    /// 4 of 1,152 weights per output for layer 2, at most 8 of 2,304 for layer 3). When each layer feeds its own
    /// contiguous range of outputs (always so for an even T), the embedding gathers and weights just those values
    /// (<see cref="SparseReferenceNodes"/>): the same numbers for about a thousandth of the work of the dense 3x3
    /// convolutions, which cost as much as the backbone itself. Otherwise it runs the convolutions.
    /// The deeper layers are upsampled bilinearly, which commutes with the per-position linear map.
    /// </summary>
    private static List<NodeProto> ReferenceEmbeddingNodes(GraphProto graph, string[] layers, int[] channels, int perLayer, int target)
    {
        var stack = AdaptivePoolMatrix(layers.Length * perLayer, target);
        var weights = new float[layers.Length][];
        for (int l = 0; l < layers.Length; l++)
        {
            int inputs = channels[l] * 9;
            var pool = AdaptivePoolMatrix(inputs, perLayer);
            weights[l] = new float[(long)target * inputs];
            for (int t = 0; t < target; t++)
                for (int p = 0; p < perLayer; p++)
                {
                    float g = stack[(long)t * layers.Length * perLayer + l * perLayer + p];
                    if (g == 0) continue;
                    for (int i = 0; i < inputs; i++) weights[l][(long)t * inputs + i] += g * pool[(long)p * inputs + i];
                }
        }
        var ranges = OutputRanges(weights, channels, target);
        return ranges is null
            ? DenseReferenceNodes(graph, layers, channels, target, weights)
            : SparseReferenceNodes(graph, layers, channels, weights, ranges);
    }

    /// <summary>The output range [start, end) each layer feeds, when they are contiguous, disjoint and in order; else null.</summary>
    private static (int Start, int End)[]? OutputRanges(float[][] weights, int[] channels, int target)
    {
        var ranges = new (int Start, int End)[weights.Length];
        int next = 0;
        for (int l = 0; l < weights.Length; l++)
        {
            int inputs = channels[l] * 9;
            bool Feeds(int t) => weights[l].AsSpan(t * inputs, inputs).IndexOfAnyExcept(0f) >= 0;
            int start = next;
            if (start >= target || !Feeds(start)) return null;
            for (int t = 0; t < start; t++) if (Feeds(t)) return null; // shares an output with an earlier layer
            int end = start;
            while (end < target && Feeds(end)) end++;
            for (int t = end; t < target; t++) if (Feeds(t)) return null;
            ranges[l] = (start, end);
            next = end;
        }
        return next == target ? ranges : null;
    }

    /// <summary>
    /// Per layer: pad, the 9 shifted views concatenated along the channels (unfolded value c*9 + k sits at channel
    /// k*C + c), then for each of J terms a Gather of one unfolded value per output and its weight; the terms summed.
    /// </summary>
    private static List<NodeProto> SparseReferenceNodes(GraphProto graph, string[] layers, int[] channels, float[][] weights, (int Start, int End)[] ranges)
    {
        var nodes = new List<NodeProto>();
        var mapped = new List<string>();
        graph.Initializer.Add(Int64Tensor("emb_pads", [8], [0, 0, 1, 1, 0, 0, 1, 1]));
        graph.Initializer.Add(Int64Tensor("emb_axes", [2], [2, 3]));
        for (int k = 0; k < 9; k++)
        {
            int ky = k / 3, kx = k % 3;
            graph.Initializer.Add(Int64Tensor($"emb_from{k}", [2], [ky, kx]));
            graph.Initializer.Add(Int64Tensor($"emb_to{k}", [2], [ky == 2 ? long.MaxValue : ky - 2, kx == 2 ? long.MaxValue : kx - 2]));
        }
        for (int l = 0; l < layers.Length; l++)
        {
            int c = channels[l], inputs = c * 9;
            var (start, end) = ranges[l];
            int outputs = end - start;
            var terms = new List<(long Index, float Weight)>[outputs];
            for (int t = 0; t < outputs; t++)
            {
                terms[t] = [];
                var row = weights[l].AsSpan((start + t) * inputs, inputs);
                for (int i = 0; i < inputs; i++)
                    if (row[i] != 0) terms[t].Add(((i % 9) * (long)c + i / 9, row[i]));
            }
            int count = terms.Max(t => t.Count);
            nodes.Add(Node("Pad", [layers[l], "emb_pads"], [$"emb_pad{l}"]));
            var views = new List<string>();
            for (int k = 0; k < 9; k++)
            {
                nodes.Add(Node("Slice", [$"emb_pad{l}", $"emb_from{k}", $"emb_to{k}", "emb_axes"], [$"emb_view{l}_{k}"]));
                views.Add($"emb_view{l}_{k}");
            }
            nodes.Add(Node("Concat", views, [$"emb_unfold{l}"], Attr("axis", 1L)));
            var parts = new List<string>();
            for (int j = 0; j < count; j++)
            {
                // Outputs with fewer terms take a zero weight on value 0.
                var index = terms.Select(t => j < t.Count ? t[j].Index : 0L).ToArray();
                var weight = terms.Select(t => j < t.Count ? t[j].Weight : 0f).ToArray();
                graph.Initializer.Add(Int64Tensor($"emb_idx{l}_{j}", [outputs], index));
                graph.Initializer.Add(FloatTensor($"emb_wt{l}_{j}", [1, outputs, 1, 1], weight));
                nodes.Add(Node("Gather", [$"emb_unfold{l}", $"emb_idx{l}_{j}"], [$"emb_term{l}_{j}"], Attr("axis", 1L)));
                nodes.Add(Node("Mul", [$"emb_term{l}_{j}", $"emb_wt{l}_{j}"], [$"emb_weighted{l}_{j}"]));
                parts.Add($"emb_weighted{l}_{j}");
            }
            nodes.Add(Node("Sum", parts, [$"emb_map{l}"]));
            mapped.Add($"emb_map{l}");
        }
        nodes.AddRange(UpsampleToFirstGrid(graph, mapped));
        nodes.Add(Node("Concat", mapped, ["emb_nchw"], Attr("axis", 1L)));
        nodes.Add(Node("Transpose", ["emb_nchw"], [OutputName], Attr("perm", 0, 2, 3, 1)));
        return nodes;
    }

    /// <summary>The general case: one 3x3 convolution with T outputs per layer (weight layout [T, C, 3, 3] = unfold order), summed.</summary>
    private static List<NodeProto> DenseReferenceNodes(GraphProto graph, string[] layers, int[] channels, int target, float[][] weights)
    {
        var nodes = new List<NodeProto>();
        var mapped = new List<string>();
        for (int l = 0; l < layers.Length; l++)
        {
            graph.Initializer.Add(FloatTensor($"emb_w{l}", [target, channels[l], 3, 3], weights[l]));
            nodes.Add(Node("Conv", [layers[l], $"emb_w{l}"], [$"emb_map{l}"], Attr("kernel_shape", 3, 3), Attr("pads", 1, 1, 1, 1)));
            mapped.Add($"emb_map{l}");
        }
        nodes.AddRange(UpsampleToFirstGrid(graph, mapped));
        string sum = mapped[0];
        for (int l = 1; l < mapped.Count; l++)
        {
            nodes.Add(Node("Add", [sum, mapped[l]], [$"emb_sum{l}"]));
            sum = $"emb_sum{l}";
        }
        nodes.Add(Node("Transpose", [sum], [OutputName], Attr("perm", 0, 2, 3, 1)));
        return nodes;
    }

    /// <summary>
    /// Bilinear resize (half-pixel centres, PyTorch's align_corners=False) of maps[1..] to the grid of
    /// maps[0]; replaces those names in <paramref name="maps"/> with the resized ones.
    /// </summary>
    private static IEnumerable<NodeProto> UpsampleToFirstGrid(GraphProto graph, List<string> maps)
    {
        if (maps.Count < 2) yield break;
        graph.Initializer.Add(Int64Tensor("emb_0", [1], [0]));
        graph.Initializer.Add(Int64Tensor("emb_2", [1], [2]));
        graph.Initializer.Add(Int64Tensor("emb_4", [1], [4]));
        yield return Node("Shape", [maps[0]], ["emb_shape0"]);
        yield return Node("Slice", ["emb_shape0", "emb_2", "emb_4"], ["emb_grid"]);
        for (int i = 1; i < maps.Count; i++)
        {
            yield return Node("Shape", [maps[i]], [$"emb_shape{i}"]);
            yield return Node("Slice", [$"emb_shape{i}", "emb_0", "emb_2"], [$"emb_nc{i}"]);
            yield return Node("Concat", [$"emb_nc{i}", "emb_grid"], [$"emb_size{i}"], Attr("axis", 0));
            yield return Node("Resize", [maps[i], "", "", $"emb_size{i}"], [$"emb_up{i}"],
                Attr("mode", "linear"), Attr("coordinate_transformation_mode", "half_pixel"));
            maps[i] = $"emb_up{i}";
        }
    }

    /// <summary>PyTorch's adaptive_avg_pool1d from n to m values as an m x n matrix.</summary>
    public static float[] AdaptivePoolMatrix(int n, int m)
    {
        var a = new float[(long)m * n];
        for (int i = 0; i < m; i++)
        {
            int start = (int)Math.Floor((double)i * n / m), end = (int)Math.Ceiling((double)(i + 1) * n / m);
            for (int j = start; j < end; j++) a[(long)i * n + j] = 1f / (end - start);
        }
        return a;
    }

    /// <summary>Channel counts of the chosen layers, found by running the graph once at the input size.</summary>
    private static int[] LayerChannels(GraphProto graph, string[] layers, InputSpec input)
    {
        var model = Model(graph);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ToByteArray());
        var data = new float[3 * input.Width * input.Height];
        using var tensor = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(data, [1, 3, input.Height, input.Width]);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var results = session.Run(runOptions, [InputName], [tensor], layers);
        return results.Select(r => (int)r.GetTensorTypeAndShape().Shape[1]).ToArray();
    }
}
