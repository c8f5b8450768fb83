namespace EdgePatchCore.Imaging;

/// <summary>A frame or file that cannot be used as an image; the message says why, for the user.</summary>
public sealed class ImageLoadException(string message, Exception? inner = null) : Diagnostics.UserFacingException(message, inner);
