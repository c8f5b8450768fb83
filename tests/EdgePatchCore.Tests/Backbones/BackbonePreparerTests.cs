using EdgePatchCore.Backbones;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Tests.Backbones;

/// <summary>Runs the real ImageNet ResNet18 from the NuGet package through ONNX Runtime.</summary>
public class BackbonePreparerTests
{
    private static readonly InputSpec Spec = new();

    private static float[] RandomImages(int count, int w = 224, int h = 224, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count * 3 * w * h).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    [Fact]
    public void Default_backbone_gives_384_dims_on_a_28x28_grid_and_is_small()
    {
        var prepared = BackbonePreparer.Prepare(new BackboneOptions(), Spec);
        Assert.Equal([128, 256], prepared.LayerChannels);
        Assert.Equal(384, prepared.Dimensions);
        Assert.InRange(prepared.Onnx.Length, 5_000_000, 20_000_000); // layer4 and the classifier are gone
        using var fx = new FeatureExtractor(prepared, Spec, new ExecutionDevice(DeviceKind.Cpu));
        Assert.Equal((28, 28), (fx.GridWidth, fx.GridHeight));
    }

    [Fact]
    public void Batch_results_equal_single_image_results()
    {
        var prepared = BackbonePreparer.Prepare(new BackboneOptions(), Spec);
        using var fx = new FeatureExtractor(prepared, Spec, new ExecutionDevice(DeviceKind.Cpu));
        var images = RandomImages(3);
        var batch = fx.Extract(images, 3);
        int per = fx.PatchesPerImage * fx.Dimensions;
        for (int i = 0; i < 3; i++)
        {
            var single = fx.Extract(images.AsMemory(i * fx.InputLength, fx.InputLength), 1);
            for (int j = 0; j < per; j += 97) Assert.Equal(single[j], batch[i * per + j], 1e-4f);
        }
    }

    [Fact]
    public void Folded_preprocessing_matches_the_packages_own_preprocess_graph()
    {
        // Reference path: RGB 0..255 -> the package's own ResNetPreprocess.onnx (BGR, minus the mean image)
        // -> the network. Our path: RGB 0..1 -> the graph with the preprocessing folded in.
        var images = RandomImages(1, seed: 4);
        var rgb255 = images.Select(v => v * 255f).ToArray();
        using var pre = new InferenceSession(ResNet18.PreprocessPath);
        using var preIn = OrtValue.CreateTensorValueFromMemory(rgb255, [1, 3, 224, 224]);
        using var preOut = pre.Run(new RunOptions(), ["OriginalInput"], [preIn], ["PreprocessedInput"]);
        var withMeanImage = BackbonePreparer.Prepare(new BackboneOptions(), Spec);
        using var fx = new FeatureExtractor(withMeanImage, Spec, new ExecutionDevice(DeviceKind.Cpu));
        var ours = fx.Extract(images, 1);

        var reference = ReferenceFeatures(preOut[0].GetTensorDataAsSpan<float>().ToArray());
        Assert.Equal(reference.Length, ours.Length);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < ours.Length; i++) { maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - reference[i])); maxAbs = Math.Max(maxAbs, Math.Abs(reference[i])); }
        Assert.True(maxDiff < 1e-3 * maxAbs, $"max difference {maxDiff} vs magnitude {maxAbs}");
    }

    /// <summary>
    /// Feeds the package-preprocessed tensor to the network unchanged: the ImageNet-mode graph computes
    /// (x - mean) / std, so the input is pre-multiplied by std and offset by mean to cancel it exactly.
    /// </summary>
    private static float[] ReferenceFeatures(float[] preprocessed)
    {
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        var input = new float[preprocessed.Length];
        int plane = 224 * 224;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) input[c * plane + i] = preprocessed[c * plane + i] * std[c] + mean[c];
        var identity = BackbonePreparer.Prepare(new BackboneOptions { Normalization = InputNormalization.ImageNet }, Spec);
        using var fx = new FeatureExtractor(identity, Spec, new ExecutionDevice(DeviceKind.Cpu));
        return fx.Extract(input, 1);
    }

    [Fact]
    public void Channel_mean_graph_runs_at_other_sizes_and_batches()
    {
        var spec = new InputSpec { Width = 320, Height = 256 };
        var prepared = BackbonePreparer.Prepare(new BackboneOptions { Normalization = InputNormalization.Bgr255ChannelMean }, spec);
        using var fx = new FeatureExtractor(prepared, spec, new ExecutionDevice(DeviceKind.Cpu));
        Assert.Equal((40, 32), (fx.GridWidth, fx.GridHeight));
        var rows = fx.Extract(RandomImages(2, 320, 256), 2);
        Assert.Equal(2 * 40 * 32 * 384, rows.Length);
    }

    [Fact]
    public void Unknown_layer_and_missing_file_give_clear_errors()
    {
        var e = Assert.Throws<BackboneException>(() => BackbonePreparer.Prepare(new BackboneOptions { Layers = ["layer2", "nope"] }, Spec));
        Assert.Contains("no tensor named nope", e.Message);
        e = Assert.Throws<BackboneException>(() => BackbonePreparer.Prepare(new BackboneOptions { ModelPath = "/nonexistent.onnx" }, Spec));
        Assert.Contains("not found", e.Message);
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("bad.onnx"), "garbage that is not protobuf at all ~~~~");
        e = Assert.Throws<BackboneException>(() => BackbonePreparer.Prepare(new BackboneOptions { ModelPath = dir.File("bad.onnx") }, Spec));
        Assert.Contains("bad.onnx", e.Message);
    }
}
