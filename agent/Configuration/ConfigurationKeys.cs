using System.Collections;
using System.Reflection;

namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// Finds configuration keys that no option reads (a misspelled "Brokr" would otherwise leave the broker at its
/// default without a word). Walks the configuration beside the options type: each key must name a settable
/// property (case-insensitive, as the binder reads them); lists take numbered children. Each unknown key is named
/// with the closest known key at its level.
/// </summary>
public static class ConfigurationKeys
{
    /// <summary>Top-level sections the agent reads: its own and the host's logging.</summary>
    public static readonly string[] Sections = [AgentOptions.Section, "Logging"];

    /// <summary>One sentence per unknown key, e.g. "unknown setting Agent:Brokr (did you mean Agent:Broker?)".</summary>
    public static List<string> Unknown(IConfiguration configuration)
    {
        var problems = new List<string>();
        foreach (var top in configuration.GetChildren())
        {
            if (top.Key.Equals(AgentOptions.Section, StringComparison.OrdinalIgnoreCase)) Walk(top, typeof(AgentOptions), problems);
            else if (!Sections.Contains(top.Key, StringComparer.OrdinalIgnoreCase))
                problems.Add(Sentence(top.Path, [.. Sections, .. Settable(typeof(AgentOptions)).Select(p => $"{AgentOptions.Section}:{p.Name}")]));
        }
        return problems;
    }

    private static void Walk(IConfigurationSection section, Type type, List<string> problems)
    {
        if (ElementType(type) is { } element)
        {
            foreach (var child in section.GetChildren())
            {
                if (!int.TryParse(child.Key,
                    out _)) problems.Add($"{child.Path} is not an item of the list {section.Path} (items are numbered 0, 1, ...)");
                else Walk(child, element, problems);
            }
            return;
        }
        if (IsScalar(type))
        {
            if (section.GetChildren().Any()) problems.Add($"{section.Path} takes a single value, not the settings " +
                $"{string.Join(", ", section.GetChildren().Select(c => c.Key))}");
            return;
        }
        var properties = Settable(type);
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null) problems.Add(Sentence(child.Path, properties.Select(p => p.Name)));
            else Walk(child, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, problems);
        }
    }

    private static List<PropertyInfo> Settable(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0).ToList();

    private static Type? ElementType(Type type) =>
        type != typeof(string) && type.IsGenericType
            && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0] : type.IsArray ? type.GetElementType() : null;

    private static bool IsScalar(Type type) => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)
        || type == typeof(TimeSpan);

    private static string Sentence(string path, IEnumerable<string> known)
    {
        string key = path[(path.LastIndexOf(':') + 1)..];
        string parent = path.Contains(':') ? path[..path.LastIndexOf(':')] + ":" : "";
        // The closest name by edit distance, a name that starts with the key ("StateDir" for "StateDirectory") counting as close.
        var closest = known.Select(k => (Key: k, Name: k[(k.LastIndexOf(':') + 1)..].ToLowerInvariant()))
            .Select(k => (k.Key, Distance: k.Name.StartsWith(key.ToLowerInvariant(), StringComparison.Ordinal)
                && key.Length >= 4 ? 1 : Distance(k.Name, key.ToLowerInvariant())))
            .OrderBy(k => k.Distance).FirstOrDefault();
        string hint = closest.Key is not null && closest.Distance <= Math.Max(2, key.Length / 3) ? $" (did you mean {parent}{closest.Key}?)" : "";
        return $"unknown setting {Messages.Text.Cap(path, 200)}{hint}: no option reads it";
    }

    /// <summary>Edit distance (insertions, deletions, substitutions).</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
