using System.Diagnostics;
using System.Text;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>One point of the sweep: a name and the `trainer build` options that differ from the defaults.</summary>
public sealed record SweepPoint(string Name, string BuildArguments);
