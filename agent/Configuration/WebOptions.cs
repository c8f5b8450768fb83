namespace EdgePatchCore.Agent.Configuration;

/// <summary>The local live page (docs/AGENT-PAGE.md): recent frames, counters, models, /metrics and /healthz.</summary>
public sealed class WebOptions
{
    /// <summary>Where the page listens: http URLs separated by ';'. Empty turns it off. Loopback by default, so nothing is exposed unless
    /// configured.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";
    /// <summary>A file holding the access token; required when <see cref="Urls"/> names an address other machines can reach.</summary>
    public string TokenFile { get; set; } = "";
    /// <summary>The token itself, for EDGEPATCHCORE__Agent__Web__Token from a secret store; never logged.</summary>
    public string Token { get; set; } = "";
    /// <summary>How many recent frames the page shows (with their heat maps, held in memory).</summary>
    public int RecentFrames { get; set; } = 24;

    public const int MinTokenLength = 16;

    public bool Enabled => !string.IsNullOrWhiteSpace(Urls);
    public IReadOnlyList<string> UrlList => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// True when every URL binds a loopback address: an IP literal in 127.0.0.0/8 or [::1], or "localhost" (which the
    /// web server binds to both loopback addresses). Any other host name is not loopback here, whatever it resolves to:
    /// the server would listen on every interface for it.
    /// </summary>
    public bool LoopbackOnly => UrlList.All(u => IsLoopbackHost(HostOf(u)));

    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>
    /// The host exactly as written in <paramref name="url"/>, as the web server reads it. (System.Uri is no judge here: it
    /// rewrites the host "loopback" to "localhost", while the server binds every interface for it.)
    /// </summary>
    public static string HostOf(string url)
    {
        int start = url.IndexOf("://", StringComparison.Ordinal);
        string rest = start < 0 ? url : url[(start + 3)..];
        int end = rest.StartsWith('[') ? rest.IndexOf(']') + 1 : rest.IndexOfAny([':', '/']);
        return end <= 0 ? rest : rest[..end];
    }

    /// <summary>The token from <see cref="TokenFile"/> or <see cref="Token"/>; empty when neither is set.</summary>
    public string ReadToken() => !string.IsNullOrEmpty(TokenFile) ? File.ReadAllText(TokenFile).Trim() : Token.Trim();
}
