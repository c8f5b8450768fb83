using EdgePatchCore.Diagnostics;
using System.Globalization;

namespace EdgePatchCore.Trainer.Cli;

/// <summary>One option a command accepts: `--name VALUE` or a flag `--name`.</summary>
public sealed record OptionSpec(string Name, string Help, string? ValueName = null, string? Default = null)
{
    public bool IsFlag => ValueName is null;
}

/// <summary>
/// The parsed arguments of one command, as System.CommandLine parsed them (<see cref="TrainerApp"/>): positional
/// arguments, and the options given, by name without the dashes (a flag's value is null). The typed getters check
/// ranges and turn a bad value into a <see cref="UsageException"/> that names the option.
/// </summary>
public sealed class CommandLine(IReadOnlyList<string> positional, IReadOnlyDictionary<string, string?> options)
{
    private readonly IReadOnlyDictionary<string, string?> _options = options;
    public IReadOnlyList<string> Positional { get; } = positional;

    public bool Has(string name) => _options.ContainsKey(name);
    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;
    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public string Require(string name) => Get(name) ?? throw new UsageException($"missing --{name}");

    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = Get(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"--{name} must be a whole number between {min} and {max}, not '{text}'");
        return v;
    }

    public double GetDouble(string name, double fallback, double min, double max)
    {
        var text = Get(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < min || v > max || double.IsNaN(v))
            throw new UsageException($"--{name} must be a number between {min} and {max}, not '{text}'");
        return v;
    }

    /// <summary>Parses with a converter that throws ArgumentException for bad text.</summary>
    public T GetParsed<T>(string name, T fallback, Func<string, T> parse)
    {
        var text = Get(name);
        if (text is null) return fallback;
        try { return parse(text); }
        catch (ArgumentException e) { throw new UsageException($"--{name}: {e.Message}"); }
    }
}
