namespace EdgePatchCore.Agent.Triggers;

/// <summary>What a part id may be, wherever a trigger comes from (MQTT, Sparkplug).</summary>
public static class PartIds
{
    public const int MaxLength = 128;

    /// <summary>Null for a usable part id, otherwise why not.</summary>
    public static string? Problem(string? partId) =>
        string.IsNullOrWhiteSpace(partId) || partId.Length > MaxLength || partId.Any(char.IsControl)
            ? $"partId must be a string of 1 to {MaxLength} printable characters" : null;
}
