using System.Security.Cryptography;
using EdgePatchCore.Imaging;
using Google.Protobuf;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Embedding;

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
            ? PatchEmbeddingGraph.ReferenceNodes(graph, layers, channels, options.LayerDimensions, options.TargetDimensions)
            : PatchEmbeddingGraph.AverageNodes(graph, layers);
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

    /// <summary>Channel counts of the chosen layers, found by running the graph once at the input size.</summary>
    private static int[] LayerChannels(GraphProto graph, string[] layers, InputSpec input)
    {
        var model = Model(graph);
        try
        {
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ToByteArray());
            var data = new float[3 * input.Width * input.Height];
            using var tensor = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(data, [1, 3, input.Height, input.Width]);
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            using var results = session.Run(runOptions, [InputName], [tensor], layers);
            return results.Select(r => (int)r.GetTensorTypeAndShape().Shape[1]).ToArray();
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            // The usual cause is the input size: the bundled ResNet18 fails with a shape error at sides that are multiples of 8 but
            // not of 16 (168, 200) and runs at multiples of 16 (160, 208).
            string message = e.Message.Split('\n')[0];
            bool shape = message.Contains("Shape", StringComparison.OrdinalIgnoreCase)
                || message.Contains("dimension", StringComparison.OrdinalIgnoreCase);
            string hint = shape
                ? ". ResNet layers halve the size at each stage, so both sides must be multiples of the deepest layer's stride (8 for layer2, " +
                  "16 for layer3, 32 for layer4): for example 224 x 224 or 224 x 160 (--size, --tile)"
                : "";
            throw new BackboneException($"the backbone does not run at a {input.Width} x {input.Height} input: {message}{hint}", e);
        }
    }
}
