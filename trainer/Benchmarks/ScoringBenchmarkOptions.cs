using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using Google.Protobuf;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record ScoringBenchmarkOptions(string Artifact, string? Images, DeviceKind Device, int Iterations,
    BankPrecision Precision = BankPrecision.Float32, int[]? Batches = null, Scoring.PatchSearchKind Search = Scoring.PatchSearchKind.Bounded,
    int SearchRounds = 1, Embedding.BackbonePrecision BackbonePrecision = Embedding.BackbonePrecision.Auto);
