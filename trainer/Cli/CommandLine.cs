using System.Globalization;

namespace EdgePatchCore.Trainer.Cli;

/// <summary>A mistake in how a command was called; printed as one line with a pointer to --help.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>One option a command accepts: `--name VALUE` or a flag `--name`.</summary>
public sealed record OptionSpec(string Name, string Help, string? ValueName = null, string? Default = null)
{
    public bool IsFlag => ValueName is null;
}

/// <summary>
/// The parsed arguments of one command. Deliberately small: positional arguments, `--name value`,
/// `--name=value` and flags; unknown options are an error, so typos never pass silently.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    public IReadOnlyList<string> Positional { get; }
    public bool HelpRequested { get; }

    public CommandLine(string command, IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specs)
    {
        var positional = new List<string>();
        var byName = specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help") { HelpRequested = true; continue; }
            if (a == "--") { positional.AddRange(args.Skip(i + 1)); break; }
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2) { positional.Add(a); continue; }
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (!byName.TryGetValue(name, out var spec))
                throw new UsageException($"unknown option --{name} for '{command}'");
            if (spec.IsFlag)
            {
                if (inline is not null) throw new UsageException($"--{name} takes no value");
                _options[name] = null;
            }
            else
            {
                string? value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (value is null) throw new UsageException($"--{name} needs a value ({spec.ValueName})");
                _options[name] = value;
            }
        }
        Positional = positional;
    }

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
