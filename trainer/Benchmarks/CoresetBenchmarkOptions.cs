using System.Diagnostics;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record CoresetBenchmarkOptions(string? Data, string? ProjectionFile, string? SaveProjection, double Fraction, int? Images,
                                             int Seed, int BatchSize, DeviceKind Device, bool SkipPlain);
