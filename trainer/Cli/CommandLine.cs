using EdgePatchCore.Diagnostics;
using System.Globalization;

namespace EdgePatchCore.Trainer.Cli;

/// <summary>
/// The parsed arguments of one command, as System.CommandLine parsed them (<see cref="TrainerApp"/>): positional
/// arguments, and the options given, by name without the dashes (a flag's value is null). The typed getters check
/// ranges and turn a bad value into a <see cref="UsageException"/> that names the option.
/// </summary>
public sealed class CommandLine(IReadOnlyList<string> positional, IReadOnlyDictionary<string, string?> options, IEnumerable<OptionSpec> specs)
{
    private readonly IReadOnlyDictionary<string, string?> _options = options;
    private readonly Dictionary<string, OptionSpec> _specs = specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
    public IReadOnlyList<string> Positional { get; } = positional;

    /// <summary>The option's text as given, else its definition's default (which must be a value: a programming error otherwise).</summary>
    private string GivenOrDefault(string name) =>
        Get(name) ?? (_specs.TryGetValue(name, out var spec) ? spec.Default : null)
        ?? throw new InvalidOperationException($"--{name} has no default value in its definition; pass the default in code");

    /// <summary>A whole number: as given, or the definition's default.</summary>
    public int Int(string name, int min = int.MinValue, int max = int.MaxValue) => ParseInt(name, GivenOrDefault(name), min, max);

    /// <summary>A whole number when the option is given, else null (an option without a default).</summary>
    public int? OptionalInt(string name, int min = int.MinValue, int max = int.MaxValue) =>
        Get(name) is { } text ? ParseInt(name, text, min, max) : null;

    /// <summary>A number: as given, or the definition's default.</summary>
    public double Double(string name, double min, double max) => ParseDouble(name, GivenOrDefault(name), min, max);

    /// <summary>Text: as given, or the definition's default.</summary>
    public string Text(string name) => GivenOrDefault(name);

    /// <summary>A value <paramref name="parse"/> makes (throwing ArgumentException for bad text): as given, or from the definition's
    /// default.</summary>
    public T Parsed<T>(string name, Func<string, T> parse) => ParseWith(name, GivenOrDefault(name), parse);

    public bool Has(string name) => _options.ContainsKey(name);
    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;
    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public string Require(string name) => Get(name) ?? throw new UsageException($"missing --{name}");

    /// <summary>A whole number: as given, or <paramref name="fallback"/> (a default computed by the command).</summary>
    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        Get(name) is { } text ? ParseInt(name, text, min, max) : fallback;

    private static int ParseInt(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"--{name} must be a whole number between {min} and {max}, not '{text}'");
        return v;
    }

    /// <summary>A number: as given, or <paramref name="fallback"/> (a default computed by the command).</summary>
    public double GetDouble(string name, double fallback, double min, double max) =>
        Get(name) is { } text ? ParseDouble(name, text, min, max) : fallback;

    /// <summary>Parses with a converter that throws ArgumentException for bad text; <paramref name="fallback"/> when not given.</summary>
    public T GetParsed<T>(string name, T fallback, Func<string, T> parse) =>
        Get(name) is { } text ? ParseWith(name, text, parse) : fallback;

    private static double ParseDouble(string name, string text, double min, double max)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < min || v > max || double.IsNaN(v))
            throw new UsageException($"--{name} must be a number between {min} and {max}, not '{text}'");
        return v;
    }

    private static T ParseWith<T>(string name, string text, Func<string, T> parse)
    {
        try { return parse(text); }
        catch (ArgumentException e) { throw new UsageException($"--{name}: {e.Message}"); }
    }
}
