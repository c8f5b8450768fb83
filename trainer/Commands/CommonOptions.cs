using EdgePatchCore.Diagnostics;
using System.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Trainer.Commands;

/// <summary>Options and checks that several commands share, defined once.</summary>
internal static class CommonOptions
{
    public static readonly OptionSpec Device = new("device", "execution provider: auto (CUDA if it loads, else CPU), cpu, cuda", "DEVICE", "auto");
    public static readonly OptionSpec Precision = new("precision",
        "bank precision for the kNN: auto (float16 on CUDA, int8 on CPUs with int8 dot products, else float32), float32 (exact), " +
        "float16 (GPUs: half the device memory, tensor cores), int8 (fastest on a CPU; candidates re-ranked in float32)",
        "P", "auto");
    public static readonly OptionSpec Search = new("search",
        "patch search: bounded (exact image scores from a fraction of the bank, where the model has a cell index; else exhaustive), " +
        "exhaustive (every patch against every bank row: the reference)", "S", "bounded");
    public static readonly OptionSpec BackbonePrecision = new("backbone-precision",
        "backbone convolutions: auto (the precision the model's bank was embedded at, where this machine runs it well: int8 needs a CPU " +
        "with int8 dot products), float32, int8 (static QDQ quantization calibrated at build time)", "P", "auto");
    public static readonly OptionSpec Batch = new("batch", "images per backbone run", "N", "8");

    public static readonly OptionSpec ReleaseVersion = new("release-version",
        "release version in the signature; must increase per product (agents refuse older ones)", "N", "the signing time as yyyymmddhhmmss");
    public static readonly OptionSpec ExpiresIn = new("expires-in", "days the signed release stays acceptable to agents", "DAYS", "365");

    /// <summary>The release statement options of `sign` and `build --sign`.</summary>
    public static EdgePatchCore.Artifacts.ReleaseOptions ParseRelease(CommandLine args)
    {
        long? version = null;
        if (args.Get("release-version") is { } text)
        {
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) || v < 1)
                throw new UsageException($"--release-version must be a positive whole number, not '{text}'");
            version = v;
        }
        return new EdgePatchCore.Artifacts.ReleaseOptions { Version = version, ValidFor = TimeSpan.FromDays(args.Double("expires-in", 1d / 24,
            3650)) };
    }

    public static DeviceKind ParseDevice(CommandLine args) => args.Parsed("device", ExecutionDevice.Parse);
    public static BankPrecision ParsePrecision(CommandLine args) =>
        args.Parsed("precision", BankSearches.ParsePrecision);
    public static EdgePatchCore.Embedding.BackbonePrecision ParseBackbonePrecision(CommandLine args) =>
        args.Parsed("backbone-precision", EdgePatchCore.Embedding.BackbonePrecisions.Parse);
    public static PatchSearchKind ParseSearch(CommandLine args) => args.Parsed("search", PatchSearches.Parse);
    public static int ParseBatch(CommandLine args) => args.Int("batch", 1, 256);

    /// <summary>Fails early, before hours of work, when the output file cannot be written.</summary>
    public static void CheckWritable(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"cannot write {path}: it is a directory");
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) throw new IOException($"cannot write {path}: folder {dir} does not exist");
        string probe = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.probe");
        try
        {
            using (File.Create(probe)) { }
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write {path}: {e.Message}");
        }
    }

    /// <param name="defaultSize">the square input size when --size is not given</param>
    public static InputSpec ParseInput(CommandLine args, int defaultSize = 224)
    {
        var spec = new InputSpec { Width = defaultSize, Height = defaultSize };
        if (args.Get("size") is { } size)
        {
            var parts = size.ToLowerInvariant().Split('x');
            if (parts.Length is < 1 or > 2 || !parts.All(p => int.TryParse(p, out var v) && v is >= 32 and <= 4096))
                throw new UsageException($"--size must be N or WxH with 32..4096 pixels, not '{size}'");
            int w = int.Parse(parts[0]), h = int.Parse(parts[^1]);
            spec = spec with { Width = w, Height = h };
        }
        spec = spec with
        {
            Mode = args.Parsed("resize", InputSpec.ParseMode),
            ResizeTo = args.GetInt("resize-to", Math.Max(spec.Width, spec.Height) * 256 / 224, 32, 8192),
        };
        return spec;
    }

    public static string PeakMemory() => $"{PeakBytes() / (1024.0 * 1024 * 1024):F2} GiB";

    public static long PeakBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
