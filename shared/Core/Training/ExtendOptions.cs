using System.Diagnostics;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Training;

public sealed record ExtendOptions
{
    /// <summary>Good images to add (a folder of images, or an MVTec-style folder with train/good).</summary>
    public required string AddDirectory { get; init; }
    /// <summary>Most rows the extension may add; null: as many as the coverage radius needs.</summary>
    public int? MaxRows { get; init; }
    /// <summary>Good images that set a new threshold; null keeps the parent's.</summary>
    public string? RecalibrateDirectory { get; init; }
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    public int BatchSize { get; init; } = 8;
    public string? TempDirectory { get; init; }
}
