using MessagePack;

namespace EdgePatchCore.Imaging;

/// <summary>The preprocessing contract between trainer and agent; stored in the artifact.</summary>
[MessagePackObject]
public sealed record InputSpec
{
    [Key(0)] public int Width { get; init; } = 224;
    [Key(1)] public int Height { get; init; } = 224;
    [Key(2)] public ResizeMode Mode { get; init; } = ResizeMode.Stretch;
    /// <summary>Shorter-side size before the centre crop; only used by <see cref="ResizeMode.CenterCrop"/>.</summary>
    [Key(3)] public int ResizeTo { get; init; } = 256;

    public static ResizeMode ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "stretch" => ResizeMode.Stretch,
        "center-crop" or "centercrop" or "crop" => ResizeMode.CenterCrop,
        "letterbox" => ResizeMode.Letterbox,
        _ => throw new ArgumentException($"unknown resize mode '{text}' (expected stretch, center-crop or letterbox)"),
    };

    public static string FormatMode(ResizeMode mode) => mode switch
    {
        ResizeMode.CenterCrop => "center-crop",
        ResizeMode.Letterbox => "letterbox",
        _ => "stretch",
    };

    public override string ToString() => Mode == ResizeMode.CenterCrop
        ? $"{Width}x{Height} center-crop (shorter side {ResizeTo})"
        : $"{Width}x{Height} {FormatMode(Mode)}";
}
