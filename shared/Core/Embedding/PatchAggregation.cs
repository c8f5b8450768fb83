namespace EdgePatchCore.Embedding;

/// <summary>How each patch's neighbourhood becomes one feature vector (docs/trainer.md, "build": --aggregation).</summary>
public enum PatchAggregation
{
    /// <summary>3x3 average per channel, layers concatenated (anomalib): D = sum of layer channels.</summary>
    Average = 0,
    /// <summary>
    /// As the official PatchCore code: each layer's 3x3 x C neighbourhood flattened and adaptively
    /// average-pooled to <see cref="BackboneOptions.LayerDimensions"/>, the layers stacked and pooled to
    /// <see cref="BackboneOptions.TargetDimensions"/>. Keeps the spatial layout of the neighbourhood
    /// and weights the layers equally.
    /// </summary>
    Reference = 1,
}
