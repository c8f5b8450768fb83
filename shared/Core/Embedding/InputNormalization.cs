namespace EdgePatchCore.Embedding;

/// <summary>How the source network expects its input; the prepared graph always takes RGB float in 0..1.</summary>
public enum InputNormalization
{
    /// <summary>BGR in 0..255 minus the per-pixel mean image of the ML.NET ResNet package (the default backbone).</summary>
    Bgr255MeanImage = 0,
    /// <summary>BGR in 0..255 minus per-channel means (B 103.06, G 115.90, R 123.15).</summary>
    Bgr255ChannelMean = 1,
    /// <summary>RGB in 0..1, then (x - ImageNet mean) / ImageNet std, as torchvision models expect.</summary>
    ImageNet = 2,
}
