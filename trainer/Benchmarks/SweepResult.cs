using System.Diagnostics;
using System.Text;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>What one point measured; latency from the timing pass that runs all points in turn.</summary>
public sealed record SweepResult(string Name, string BuildArguments, int BankRows, int Dimensions, string Input,
    double BuildSeconds, double? ImageAuroc, double? PixelAuroc, double? Pro, double? MedianMs = null, double? P95Ms = null);
