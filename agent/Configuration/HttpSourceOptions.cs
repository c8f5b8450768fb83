namespace EdgePatchCore.Agent.Configuration;

public sealed class HttpSourceOptions
{
    public string Url { get; set; } = "";
    public int IntervalMilliseconds { get; set; } = 1000;
    public int TimeoutMilliseconds { get; set; } = 5000;
    public string? Product { get; set; }
}
