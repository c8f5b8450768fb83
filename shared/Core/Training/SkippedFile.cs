using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Training;

public sealed record SkippedFile(string Path, string Reason);
