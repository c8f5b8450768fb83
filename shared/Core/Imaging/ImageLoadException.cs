using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace EdgePatchCore.Imaging;

/// <summary>A frame or file that cannot be used as an image; the message says why, for the user.</summary>
public sealed class ImageLoadException(string message, Exception? inner = null) : Diagnostics.UserFacingException(message, inner);
