using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using Microsoft.ML.OnnxRuntime;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Tests.Embedding;

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
    public void Default_backbone_gives_1024_dims_on_a_28x28_grid_and_is_small()
    {
        var prepared = BackbonePreparer.Prepare(new BackboneOptions(), Spec);
        Assert.Equal([128, 256], prepared.LayerChannels);
        Assert.Equal(PatchAggregation.Reference, prepared.Aggregation);
        Assert.Equal(1024, prepared.Dimensions);
        // Layers 1-3 (11 MB) + the sparse aggregation's indices and weights (under 0.1 MB; as dense convolutions
        // they were 14 MB); the full network is 46 MB.
        Assert.InRange(prepared.Onnx.Length, 10_000_000, 12_500_000);
        using var fx = new FeatureExtractor(prepared, Spec, new ExecutionDevice(DeviceKind.Cpu));
        Assert.Equal((28, 28), (fx.GridWidth, fx.GridHeight));
    }

    [Fact]
    public void Average_aggregation_concatenates_the_layers_to_384_dims()
    {
        var prepared = BackbonePreparer.Prepare(new BackboneOptions { Aggregation = PatchAggregation.Average }, Spec);
        Assert.Equal(384, prepared.Dimensions);
        using var fx = new FeatureExtractor(prepared, Spec, new ExecutionDevice(DeviceKind.Cpu));
        var rows = fx.Extract(RandomImages(1), 1);
        Assert.Equal(28 * 28 * 384, rows.Length);
        Assert.All(rows, v => Assert.True(v >= 0)); // averages of ReLU outputs
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
        Assert.Equal(2 * 40 * 32 * 1024, rows.Length);
    }

    [Fact]
    public void Other_layers_by_tensor_name_from_an_explicit_file()
    {
        // As `--backbone FILE.onnx --layers A,B`: layer1 (64 ch, 56x56) + layer2 (128 ch) -> 192 dims on a 56x56 grid.
        var options = new BackboneOptions { ModelPath = ResNet18.ModelPath, Layers = [ResNet18.Layer1, "layer2"], Aggregation = PatchAggregation.Average };
        var prepared = BackbonePreparer.Prepare(options, Spec);
        Assert.Equal([ResNet18.Layer1, ResNet18.Layer2], prepared.Layers);
        Assert.Equal([64, 128], prepared.LayerChannels);
        using var fx = new FeatureExtractor(prepared, Spec, new ExecutionDevice(DeviceKind.Cpu));
        Assert.Equal((56, 56, 192), (fx.GridWidth, fx.GridHeight, fx.Dimensions));
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

    [Theory]
    [InlineData(224, 168)]
    [InlineData(200, 200)]
    public void An_input_size_the_layers_cannot_halve_gives_a_clear_error(int width, int height)
    {
        // 168 and 200 are multiples of 8 but not of layer3's stride, 16: the bundled ResNet18 does not run at them.
        var e = Assert.Throws<BackboneException>(() => BackbonePreparer.Prepare(new BackboneOptions(), new InputSpec { Width = width, Height = height }));
        Assert.Contains($"{width} x {height} input", e.Message);
        Assert.Contains("multiples of the deepest layer's stride", e.Message);
    }
}

/// <summary>The official code's aggregation, folded into convolutions, checked against a plain re-implementation.</summary>
public class ReferenceAggregationTests
{
    [Fact]
    public void Adaptive_pool_matrix_follows_pytorch_windows()
    {
        // adaptive_avg_pool1d 5 -> 3: windows [0,2), [1,4), [3,5).
        var a = PatchEmbeddingGraph.AdaptivePoolMatrix(5, 3);
        Assert.Equal(new float[] { .5f, .5f, 0, 0, 0, 0, 1 / 3f, 1 / 3f, 1 / 3f, 0, 0, 0, 0, .5f, .5f }, a);
        // 4 -> 2 averages pairs; 2 -> 4 repeats.
        Assert.Equal(new float[] { .5f, .5f, 0, 0, 0, 0, .5f, .5f }, PatchEmbeddingGraph.AdaptivePoolMatrix(4, 2));
        Assert.Equal(new float[] { 1, 0, 1, 0, 0, 1, 0, 1 }, PatchEmbeddingGraph.AdaptivePoolMatrix(2, 4));
    }

    [Theory]
    [InlineData(64, true)]  // each layer feeds its own half of the outputs: gathered sparse terms
    [InlineData(63, false)] // output 31 averages values of both layers: the dense convolutions
    public void Graph_equals_unfold_pool_aggregate_computed_by_hand(int target, bool sparse)
    {
        var spec = new InputSpec { Width = 64, Height = 64 };
        var options = new BackboneOptions { Aggregation = PatchAggregation.Reference, LayerDimensions = 96, TargetDimensions = target,
                                            Normalization = InputNormalization.Bgr255ChannelMean };
        var prepared = BackbonePreparer.Prepare(options, spec, exposeLayers: true);
        Assert.Equal(target, prepared.Dimensions);
        var ops = Onnx.ModelProto.Parser.ParseFrom(prepared.Onnx).Graph.Node.Where(n => n.Output[0].StartsWith("emb_")).Select(n => n.OpType).ToList();
        Assert.Equal(sparse, !ops.Contains("Conv"));
        Assert.Equal(sparse, ops.Contains("Gather"));
        var rng = new Random(2);
        var image = Enumerable.Range(0, 3 * 64 * 64).Select(_ => (float)rng.NextDouble()).ToArray();
        using var session = new InferenceSession(prepared.Onnx);
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, 3, 64, 64]);
        using var outputs = session.Run(new RunOptions(), ["image"], [input], [BackbonePreparer.OutputName, .. prepared.Layers]);
        var patches = outputs[0].GetTensorDataAsSpan<float>().ToArray();         // [1, 8, 8, target]
        var l2 = outputs[1].GetTensorDataAsSpan<float>().ToArray();              // [1, 128, 8, 8]
        var l3 = outputs[2].GetTensorDataAsSpan<float>().ToArray();              // [1, 256, 4, 4]

        // Per layer: unfold 3x3 (zero padded) at every grid cell, adaptive-pool C*9 -> 96.
        static float[] MeanMapped(float[] map, int c, int h, int w, int dims)
        {
            var pool = PatchEmbeddingGraph.AdaptivePoolMatrix(c * 9, dims);
            var result = new float[h * w * dims];
            var patch = new float[c * 9];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int yy = y + ky - 1, xx = x + kx - 1;
                                patch[ch * 9 + ky * 3 + kx] = yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : map[(ch * h + yy) * w + xx];
                            }
                    for (int o = 0; o < dims; o++)
                    {
                        double acc = 0;
                        for (int i = 0; i < c * 9; i++) acc += pool[o * c * 9 + i] * patch[i];
                        result[(y * w + x) * dims + o] = (float)acc;
                    }
                }
            return result;
        }
        var m2 = MeanMapped(l2, 128, 8, 8, 96);
        var m3small = MeanMapped(l3, 256, 4, 4, 96);
        // Upsample layer 3's mapped features to 8x8 (bilinear, half-pixel), channel by channel.
        var m3 = new float[8 * 8 * 96];
        var plane = new float[16];
        var up = new float[64];
        for (int o = 0; o < 96; o++)
        {
            for (int i = 0; i < 16; i++) plane[i] = m3small[i * 96 + o];
            Resampling.ResizeBilinear(plane, 4, 4, up, 8, 8);
            for (int i = 0; i < 64; i++) m3[i * 96 + o] = up[i];
        }
        // Stack the layers [m2, m3] per patch (192 values) and adaptive-pool to the target.
        var aggregate = PatchEmbeddingGraph.AdaptivePoolMatrix(192, target);
        double maxDiff = 0, maxAbs = 0;
        for (int p = 0; p < 64; p++)
            for (int t = 0; t < target; t++)
            {
                double expected = 0;
                for (int i = 0; i < 96; i++) expected += aggregate[t * 192 + i] * m2[p * 96 + i] + aggregate[t * 192 + 96 + i] * m3[p * 96 + i];
                maxDiff = Math.Max(maxDiff, Math.Abs(expected - patches[p * target + t]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected));
            }
        Assert.True(maxDiff <= 1e-4 * maxAbs, $"max difference {maxDiff} at magnitude {maxAbs}");
    }
}
