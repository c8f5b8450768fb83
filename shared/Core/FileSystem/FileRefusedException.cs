using Microsoft.Win32.SafeHandles;

namespace EdgePatchCore.FileSystem;

/// <summary>A path that is not a regular file, or one larger than allowed; the message is meant for the user.</summary>
public sealed class FileRefusedException(string message, Exception? inner = null) : IOException(message, inner);
