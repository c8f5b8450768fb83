using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// One buffer the camera delivered: the picture as RGB (null when the buffer is incomplete: <see cref="Problem"/> says why), the
/// camera's frame id and timestamp (its own clock, ns), the host's time of arrival, and how long the copy and conversion to RGB took.
/// </summary>
public sealed record CameraFrame(Image<Rgb24>? Image, ulong FrameId, ulong CameraTimestampNs, DateTimeOffset ReceivedAt, string? Problem,
                                 double ConversionMs = 0);
