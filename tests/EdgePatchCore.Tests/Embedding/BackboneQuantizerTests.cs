using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using EdgePatchCore.Synthetic;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Tests.Embedding;

/// <summary>The int8 backbone (<see cref="BackboneQuantizer"/>) on the real ResNet18 and on small hand-written graphs.</summary>
public class BackboneQuantizerTests
{
    private static readonly InputSpec Spec = new();
    private static readonly ExecutionDevice Cpu = new(DeviceKind.Cpu);

    /// <summary>Gasket images as network inputs: the first <paramref name="calibrate"/> calibrate, the rest are scored.</summary>
    private static (PreparedBackbone Backbone, ImageBatch Held) CalibratedOnGaskets(TempFolder folder, int calibrate)
    {
        new GasketGenerator(new GasketOptions { Seed = 5, TrainCount = calibrate + 4, TestGoodCount = 0, TestPerDefect = 0 }).Write(folder.Path);
        var files = Directory.GetFiles(Path.Combine(folder.Path, "train", "good")).Order().ToList();
        var reader = new ImageBatchReader(new ImageLoader(), Spec, 8);
        var backbone = BackbonePreparer.Prepare(new BackboneOptions(), Spec);
        using var calibrator = new ActivationCalibrator(backbone, Spec, Cpu);
        foreach (var batch in reader.Read(files.Take(calibrate).ToList(), (_, e) => Assert.Fail(e))) calibrator.Add(batch.Data, batch.Count);
        var held = reader.Read(files.Skip(calibrate).ToList(), (_, e) => Assert.Fail(e)).Single();
        return (backbone with { Ranges = calibrator.Ranges() }, held);
    }

    private static double RelativeError(float[] reference, float[] other)
    {
        double num = 0, den = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            num += (double)(reference[i] - other[i]) * (reference[i] - other[i]);
            den += (double)reference[i] * reference[i];
        }
        return Math.Sqrt(num / den);
    }

    [Fact]
    public void ResNet18_in_int8_folds_batch_norm_quantizes_every_convolution_and_keeps_the_features()
    {
        using var folder = new TempFolder();
        var (backbone, held) = CalibratedOnGaskets(folder, 12);
        Assert.Equal(12, backbone.Ranges!.Inputs);
        var graph = ModelProto.Parser.ParseFrom(BackboneQuantizer.Quantize(backbone)).Graph;
        Assert.DoesNotContain(graph.Node, n => n.OpType == "BatchNormalization");
        var convolutions = graph.Node.Where(n => n.OpType == "Conv").ToList();
        Assert.Equal(15, convolutions.Count); // ResNet18 up to layer3: the stem, 4 per layer in its blocks, a downsample in layers 2 and 3
        var dequantized = graph.Node.Where(n => n.OpType == "DequantizeLinear").ToDictionary(n => n.Output[0]);
        var int8 = graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Int8).Select(t => t.Name).ToHashSet();
        foreach (var conv in convolutions)
        {
            Assert.True(dequantized.TryGetValue(conv.Input[0], out var input), $"{conv.Name}: input not quantized");
            Assert.True(dequantized.TryGetValue(conv.Input[1], out var weights) && int8.Contains(weights.Input[0]), $"{conv.Name}: float weights");
            Assert.Equal(0, weights!.Attribute.Single(a => a.Name == "axis").I); // one scale per output channel
            Assert.True(dequantized.ContainsKey(conv.Input[2]), $"{conv.Name}: float bias");
        }
        // The layers the embedding reads keep a float Relu; the others became the quantization's clamp.
        Assert.Equal(2, graph.Node.Count(n => n.OpType == "Relu"));

        using var float32 = new FeatureExtractor(backbone, Spec, Cpu, BackbonePrecision.Float32);
        using var quantized = new FeatureExtractor(backbone, Spec, Cpu, BackbonePrecision.Int8);
        Assert.Equal(BackbonePrecision.Int8, quantized.Precision);
        double error = RelativeError(float32.Extract(held.Data, held.Count), quantized.Extract(held.Data, held.Count));
        Assert.True(error < 0.08, $"int8 features differ from float32 by {error:P1} (root mean square, relative)");
    }

    /// <summary>
    /// Conv (a dead filter: all weights zero) + BatchNormalization + Relu + 1x1 Conv. The dead filter outputs its folded bias alone, which an
    /// int32 bias at the scale of zero weights would round away; the quantized graph must keep it.
    /// </summary>
    [Fact]
    public void A_dead_filter_keeps_its_bias_and_small_graphs_match_float32()
    {
        var rng = new Random(3);
        float[] Random(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
        var w1 = Random(4 * 3 * 9, 0.5f);
        Array.Clear(w1, 2 * 27, 27); // filter 2 is dead
        var g = new GraphProto { Name = "small" };
        g.Input.Add(FloatTensor("image", "batch", 3, 8, 8));
        g.Initializer.Add(FloatTensor("w1", [4, 3, 3, 3], w1.Select(w => w / 100).ToArray()));
        g.Initializer.Add(FloatTensor("gamma", [4], [1.5f, 0.8f, 1f, 1.2f]));
        g.Initializer.Add(FloatTensor("beta", [4], [0.1f, -0.2f, 0.7f, 0.3f]));
        g.Initializer.Add(FloatTensor("mean", [4], [0.05f, -0.1f, 0f, 0.2f]));
        g.Initializer.Add(FloatTensor("var", [4], [0.5f, 2f, 1f, 0.3f]));
        g.Initializer.Add(FloatTensor("w2", [2, 4, 1, 1], [0.3f, -0.2f, 1f, 0.1f, -0.4f, 0.5f, 1f, 0.2f]));
        g.Node.Add(Node("Conv", ["image", "w1"], ["c1"], Attr("pads", 1, 1, 1, 1)));
        g.Node.Add(Node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["bn1"], Attr("epsilon", 1e-5f)));
        g.Node.Add(Node("Relu", ["bn1"], ["r1"]));
        g.Node.Add(Node("Conv", ["r1", "w2"], ["patches"]));
        g.Output.Add(FloatTensor("patches", "batch", 2, 8, 8));
        var backbone = new PreparedBackbone
        {
            Onnx = Google.Protobuf.MessageExtensions.ToByteArray(Model(g)), Layers = ["r1"], LayerChannels = [4], Dimensions = 2,
        };
        var input = new InputSpec { Width = 8, Height = 8 };
        // Inputs over 0..100, as a backbone's normalised image spans about 0..255: one input step (0.4) is then coarser than the bias.
        var images = Enumerable.Range(0, 4 * 3 * 64).Select(_ => (float)rng.NextDouble() * 100).ToArray();
        using (var calibrator = new ActivationCalibrator(backbone, input, Cpu))
        {
            calibrator.Add(images, 4);
            backbone = backbone with { Ranges = calibrator.Ranges() };
        }
        Assert.Equal(["image", "r1"], backbone.Ranges.Tensors);
        float[] Run(byte[] onnx)
        {
            using var session = new InferenceSession(onnx);
            using var tensor = OrtValue.CreateTensorValueFromMemory(images, [4, 3, 8, 8]);
            using var results = session.Run(new RunOptions(), ["image"], [tensor], ["patches"]);
            return results[0].GetTensorDataAsSpan<float>().ToArray();
        }
        double error = RelativeError(Run(backbone.Onnx), Run(BackboneQuantizer.Quantize(backbone)));
        Assert.True(error < 0.02, $"relative error {error:P2}");
    }

    [Fact]
    public void Auto_follows_the_bank_and_a_model_without_calibration_refuses_int8()
    {
        var backbone = BackbonePreparer.Prepare(new BackboneOptions(), Spec);
        Assert.Null(backbone.Ranges);
        var e = Assert.Throws<BackboneException>(() => BackbonePrecisions.Resolve(BackbonePrecision.Int8, backbone, Cpu));
        Assert.Contains("rebuild", e.Message);
        Assert.Equal(BackbonePrecision.Float32, BackbonePrecisions.Resolve(BackbonePrecision.Auto, backbone, Cpu).Precision);

        var ranges = new ActivationRanges { Tensors = ["x"], Min = [0], Max = [1], Inputs = 1 };
        var int8Bank = backbone with { Ranges = ranges, Precision = BackbonePrecision.Int8 };
        var (auto, why) = BackbonePrecisions.Resolve(BackbonePrecision.Auto, int8Bank, Cpu);
        Assert.Equal(BackbonePrecisions.CpuHasInt8DotProduct ? BackbonePrecision.Int8 : BackbonePrecision.Float32, auto);
        Assert.Contains("embedded in int8", why);
        var (asked, because) = BackbonePrecisions.Resolve(BackbonePrecision.Float32, int8Bank, Cpu);
        Assert.Equal(BackbonePrecision.Float32, asked);
        Assert.Contains("differ slightly", because);
        Assert.Equal(BackbonePrecision.Float32,
            BackbonePrecisions.Resolve(BackbonePrecision.Auto, backbone with { Ranges = ranges }, Cpu).Precision); // float32 bank
        Assert.Throws<ArgumentException>(() => BackbonePrecisions.Parse("int4"));
    }
}
