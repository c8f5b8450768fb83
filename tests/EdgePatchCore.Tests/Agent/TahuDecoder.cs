using System.Diagnostics;
using System.Text.Json;

namespace EdgePatchCore.Tests.Agent;

/// <summary>A Sparkplug message as the Eclipse Tahu reference decoder (npm sparkplug-payload) reads it.</summary>
public sealed record DecodedMessage(string Topic, JsonElement Payload)
{
    public string Type => Topic.Split('/')[2];
    public string? Device => Topic.Split('/') is { Length: 5 } parts ? parts[4] : null;
    public long? Seq => Payload.TryGetProperty("seq", out var s) ? s.GetInt64() : null;
    public IEnumerable<JsonElement> Metrics => Payload.TryGetProperty("metrics", out var m) ? m.EnumerateArray() : [];
    public JsonElement? Metric(string name) => Metrics.Where(m => m.TryGetProperty("name", out var n) && n.GetString() == name).Cast<JsonElement?>().FirstOrDefault();
}

/// <summary>
/// Runs tests/sparkplug/decode.js (node and the decoder come from .ci/run: apt-get install nodejs npm,
/// npm ci --prefix tests/sparkplug) on the payloads, so that every message is checked by the specification's
/// own decoder rather than by the code that wrote it.
/// </summary>
public static class TahuDecoder
{
    public static List<DecodedMessage> Decode(IEnumerable<ReceivedMessage> messages)
    {
        string script = TestData.RepositoryFile("tests/sparkplug/decode.js");
        if (!Directory.Exists(TestData.RepositoryFile("tests/sparkplug/node_modules/sparkplug-payload")))
            throw new InvalidOperationException("the Tahu decoder is not installed: npm ci --prefix tests/sparkplug (.ci/run does this)");
        var start = new ProcessStartInfo("node", [script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        var list = messages.ToList();
        foreach (var m in list) node.StandardInput.WriteLine($"{m.Topic}\t{Convert.ToBase64String(m.Payload)}");
        node.StandardInput.Close();
        node.WaitForExit(60_000);
        Assert.True(node.ExitCode == 0, errors.Result);
        var decoded = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(list.Count, decoded.Count);
        foreach (var d in decoded) Assert.False(d.TryGetProperty("error", out var e), $"{d.GetProperty("topic")}: {e}");
        return decoded.Select(d => new DecodedMessage(d.GetProperty("topic").GetString()!, d.GetProperty("payload"))).ToList();
    }
}
