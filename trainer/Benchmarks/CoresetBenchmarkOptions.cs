using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgePatchCore.Devices;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record CoresetBenchmarkOptions(string? Data, string? ProjectionFile, string? SaveProjection, double Fraction, int? Images,
                                             int Seed, int BatchSize, DeviceKind Device, bool SkipPlain);
