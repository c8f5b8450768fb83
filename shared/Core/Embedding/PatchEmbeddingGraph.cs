using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Embedding;

/// <summary>
/// The ONNX nodes of the patch embedding that <see cref="BackbonePreparer"/> appends to the backbone: per layer a
/// 3x3 neighbourhood aggregation, each layer upsampled to the finest grid, concatenated to one row per patch.
/// </summary>
internal static class PatchEmbeddingGraph
{
    /// <summary>PatchCore's locally aware patch features: 3x3 average per layer, upsample, concat.</summary>
    public static IEnumerable<NodeProto> AverageNodes(GraphProto graph, string[] layers)
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
        yield return Node("Transpose", ["emb_nchw"], [BackbonePreparer.OutputName], Attr("perm", 0, 2, 3, 1));
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
    public static List<NodeProto> ReferenceNodes(GraphProto graph, string[] layers, int[] channels, int perLayer, int target)
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
    private static List<NodeProto> SparseReferenceNodes(GraphProto graph, string[] layers, int[] channels, float[][] weights, (int Start,
        int End)[] ranges)
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
        nodes.Add(Node("Transpose", ["emb_nchw"], [BackbonePreparer.OutputName], Attr("perm", 0, 2, 3, 1)));
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
        nodes.Add(Node("Transpose", [sum], [BackbonePreparer.OutputName], Attr("perm", 0, 2, 3, 1)));
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
}
