using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgePatchCore.Devices;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record AccuracySweepOptions(string Data, string Output, IReadOnlyList<string>? Only, DeviceKind Device, int Frames);
