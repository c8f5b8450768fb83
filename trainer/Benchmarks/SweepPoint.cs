using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>One point of the sweep: a name and the `trainer build` options that differ from the defaults.</summary>
public sealed record SweepPoint(string Name, string BuildArguments);
