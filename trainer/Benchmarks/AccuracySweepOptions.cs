using System.Diagnostics;
using System.Text;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record AccuracySweepOptions(string Data, string Output, IReadOnlyList<string>? Only, DeviceKind Device, int Frames);
