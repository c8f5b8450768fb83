using EdgePatchCore.Agent.Configuration;

namespace EdgePatchCore.Agent.Web;

/// <summary>Agent:Web's own checks (registered by <see cref="WebRegistration.AddWeb"/>): URLs, the token, loopback or not.</summary>
public sealed class WebOptionsValidation : OptionsChecks
{
    protected override void Check(AgentOptions o, Action<bool, string> check)
    {
        var w = o.Web;
        if (!w.Enabled) return;
        foreach (var url in w.UrlList)
            check(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == "http" && uri.AbsolutePath == "/" && !url.Contains('*')
                && !url.Contains('+'),
                  $"Agent:Web:Urls: '{url}' is not an http://address:port URL (use 0.0.0.0 for every address; empty Urls turns the page off)");
        foreach (var url in w.UrlList)
            check(WebOptions.HostOf(url) is var host && (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _) || host.Equals("localhost",
                StringComparison.OrdinalIgnoreCase)),
                  $"Agent:Web:Urls: '{url}' names a host; use an IP address (127.0.0.1 for this machine, 0.0.0.0 for every address) or localhost");
        check(string.IsNullOrEmpty(w.TokenFile) || File.Exists(w.TokenFile), $"Agent:Web:TokenFile {w.TokenFile} does not exist");
        check(string.IsNullOrEmpty(w.TokenFile) || string.IsNullOrEmpty(w.Token), "set Agent:Web:TokenFile or :Token, not both");
        string token = "";
        try { token = w.ReadToken(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { check(false,
            $"Agent:Web:TokenFile: {e.Message}"); }
        check(token.Length is 0 or >= WebOptions.MinTokenLength, $"the Agent:Web token must be at least {WebOptions.MinTokenLength} characters");
        check(w.LoopbackOnly || token.Length > 0,
              $"Agent:Web:Urls '{w.Urls}' can be reached from other machines: set Agent:Web:TokenFile (a file holding an access token), or bind " +
                  $"127.0.0.1");
        check(w.RecentFrames is >= 0 and <= 200, "Agent:Web:RecentFrames must be 0..200");
    }
}
