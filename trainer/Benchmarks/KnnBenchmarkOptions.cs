using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record KnnBenchmarkOptions(string Artifact, string? Images, string Export, DeviceKind Device, int Iterations,
    BankPrecision Precision = BankPrecision.Float32);
