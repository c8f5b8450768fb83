using Microsoft.Extensions.Configuration;

namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// Reads the "Agent" section into <see cref="AgentOptions"/>. The configuration binder throws on the first setting
/// it cannot convert (an enum name such as Agent:Device=tpu), which would hide every other problem: such settings
/// are set aside first, named in <see cref="AgentOptions.UnreadableSettings"/> with the values they accept, and the
/// rest is bound, so that check-config and the start-up validation list every problem at once. Keys that no option
/// reads are problems too (<see cref="ConfigurationKeys"/>).
/// </summary>
public static class AgentConfiguration
{
    public static AgentOptions Read(IConfiguration configuration)
    {
        var options = new AgentOptions();
        BindTo(options, configuration);
        return options;
    }

    public static void BindTo(AgentOptions options, IConfiguration configuration)
    {
        var section = configuration.GetSection(AgentOptions.Section);
        var problems = new List<string>();
        var setAside = new Dictionary<string, string?>();
        foreach (var property in typeof(AgentOptions).GetProperties().Where(p => p.PropertyType.IsEnum && p.CanWrite))
        {
            if (section[property.Name] is not { } text) continue;
            var names = Enum.GetNames(property.PropertyType);
            if (names.Any(n => n.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase))) continue;
            // "auto" first: it is the default wherever it exists.
            var accepted = names.Select(n => n.ToLowerInvariant()).OrderBy(n => n != "auto").ToList();
            problems.Add($"{AgentOptions.Section}:{property.Name} is '{text}': use {string.Join(", ", accepted[..^1])} or {accepted[^1]}");
            setAside[$"{AgentOptions.Section}:{property.Name}"] = null;
        }
        var source = setAside.Count == 0 ? configuration
            : new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(setAside).Build();
        source.GetSection(AgentOptions.Section).Bind(options);
        problems.AddRange(ConfigurationKeys.Unknown(configuration));
        options.UnreadableSettings = problems;
    }
}
