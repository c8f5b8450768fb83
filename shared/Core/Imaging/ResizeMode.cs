namespace EdgePatchCore.Imaging;

/// <summary>How a frame of any size is brought to the network's input size.</summary>
public enum ResizeMode
{
    /// <summary>Scale both axes independently to the target size (aspect ratio not kept).</summary>
    Stretch = 0,
    /// <summary>Scale the shorter side to <see cref="InputSpec.ResizeTo"/>, then cut the centre (the paper's 256 -> 224).</summary>
    CenterCrop = 1,
    /// <summary>Scale to fit inside the target keeping the aspect ratio; pad the rest with black.</summary>
    Letterbox = 2,
}
