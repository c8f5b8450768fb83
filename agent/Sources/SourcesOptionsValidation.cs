using EdgePatchCore.Agent.Configuration;

namespace EdgePatchCore.Agent.Sources;

/// <summary>Agent:Sources' own checks (registered by <see cref="SourcesRegistration.AddSources"/>).</summary>
public sealed class SourcesOptionsValidation : OptionsChecks
{
    protected override void Check(AgentOptions o, Action<bool, string> check)
    {
        var s = o.Sources; // that at least one is configured: Hosting/SourceCountValidation counts the registered sources
        var b = o.Broker;
        if (s.Folder is { } f)
        {
            check(!string.IsNullOrWhiteSpace(f.Path), "Agent:Sources:Folder:Path is empty");
            check(f.SettleMilliseconds is >= 0 and <= 600_000 && f.PollMilliseconds is >= 1 and <= 60_000,
                  "Agent:Sources:Folder: SettleMilliseconds must be 0..600000 and PollMilliseconds 1..60000");
        }
        if (s.Mqtt is { } m)
        {
            check(!string.IsNullOrWhiteSpace(m.Topic), "Agent:Sources:Mqtt:Topic is empty");
            check(!string.IsNullOrWhiteSpace(b.Host), "Agent:Sources:Mqtt needs a broker (Agent:Broker:Host)");
        }
        if (s.Mjpeg is { } j)
        {
            check(!string.IsNullOrWhiteSpace(j.Command), "Agent:Sources:Mjpeg:Command is empty (use \"-\" for standard input)");
            check(j.RestartSeconds is >= 0 and <= 3600, "Agent:Sources:Mjpeg:RestartSeconds must be 0..3600");
        }
        if (s.Http is { } h)
        {
            check(Uri.TryCreate(h.Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https",
                $"Agent:Sources:Http:Url '{h.Url}' is not an http(s) URL");
            check(h.IntervalMilliseconds is >= 1 and <= 86_400_000 && h.TimeoutMilliseconds is >= 1 and <= 600_000,
                  "Agent:Sources:Http: IntervalMilliseconds must be 1..86400000 and TimeoutMilliseconds 1..600000");
        }
        if (s.GenICam is { } g)
        {
            int given = new[] { g.Address, g.Serial, g.Name }.Count(v => !string.IsNullOrWhiteSpace(v));
            check(given == 1, "Agent:Sources:GenICam: give one of Address, Serial or Name");
            if (!string.IsNullOrWhiteSpace(g.Address))
                check(System.Net.IPAddress.TryParse(g.Address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork,
                      $"Agent:Sources:GenICam:Address '{g.Address}' is not an IPv4 address (a camera's name or serial number goes in :Name " +
                      "or :Serial)");
            else check(!string.IsNullOrWhiteSpace(g.Interface),
                       "Agent:Sources:GenICam: finding a camera by Serial or Name needs Interface (the discovery is sent on that interface only, " +
                       "never on every interface)");
            check(string.IsNullOrWhiteSpace(g.PixelFormat) || Cameras.PixelConversion.Formats.ContainsKey(g.PixelFormat),
                  $"Agent:Sources:GenICam:PixelFormat '{g.PixelFormat}' is not one of {string.Join(", ", Cameras.PixelConversion.Formats.Keys)}");
            check(g.Buffers is >= 2 and <= 256, "Agent:Sources:GenICam:Buffers must be 2..256");
            check(g.ReconnectMaxSeconds is >= 0.5 and <= 3600, "Agent:Sources:GenICam:ReconnectMaxSeconds must be 0.5..3600");
            check(g.Width is null or > 0 && g.Height is null or > 0 && g.OffsetX >= 0 && g.OffsetY >= 0,
                  "Agent:Sources:GenICam: Width and Height must be positive, OffsetX and OffsetY not negative");
            check(g.FrameRate is null or > 0 && g.ExposureMicroseconds is null or > 0,
                  "Agent:Sources:GenICam: FrameRate and ExposureMicroseconds must be positive");
        }
    }
}
