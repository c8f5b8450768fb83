using System.Diagnostics;

namespace EdgePatchCore.Training;

public sealed record SkippedFile(string Path, string Reason);
