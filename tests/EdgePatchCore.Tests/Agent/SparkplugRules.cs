using System.Text.Json;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// What a host that follows Sparkplug B 3.0 relies on, checked over one edge node's messages in the order a
/// subscriber received them: NBIRTH first and with seq 0 and bdSeq; every later NBIRTH, DBIRTH, NDATA, DDATA
/// and DDEATH one seq further (mod 256, no gaps); NDEATH without seq and with its session's bdSeq; DATA only
/// for born devices, by alias only, each alias announced in a BIRTH of the session with the same data type.
/// </summary>
public static class SparkplugRules
{
    public sealed record Session(long BdSeq, List<DecodedMessage> Messages, DecodedMessage? Death);

    public static List<Session> Check(IReadOnlyList<DecodedMessage> messages)
    {
        var sessions = new List<Session>();
        Session? current = null;
        long expectedSeq = 0;
        var aliases = new Dictionary<long, (string Name, string Type)>();
        var devices = new HashSet<string>();
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            string where = $"message {i} ({m.Topic}, seq {m.Seq})";
            switch (m.Type)
            {
                case "NBIRTH":
                    Assert.True(m.Seq == 0, $"{where}: NBIRTH must have seq 0");
                    var bdSeq = m.Metric("bdSeq") ?? throw new Xunit.Sdk.XunitException($"{where}: NBIRTH without bdSeq");
                    Assert.Equal("Int64", bdSeq.GetProperty("type").GetString());
                    Assert.False(m.Metric("Node Control/Rebirth")!.Value.GetProperty("value").GetBoolean());
                    long value = bdSeq.GetProperty("value").GetInt64();
                    if (current is null || current.BdSeq != value || current.Death is not null) // a new session (a rebirth keeps its bdSeq)
                        sessions.Add(current = new Session(value, [], null));
                    aliases.Clear();
                    devices.Clear();
                    Learn(m, aliases, where);
                    expectedSeq = 1;
                    break;
                case "NDEATH":
                    Assert.True(m.Seq is null, $"{where}: NDEATH must not carry seq");
                    Assert.NotNull(current);
                    Assert.Equal(current!.BdSeq, m.Metric("bdSeq")!.Value.GetProperty("value").GetInt64());
                    sessions[^1] = current = current with { Death = m };
                    break;
                default:
                    Assert.True(current is { Death: null }, $"{where}: no live session (NBIRTH first)");
                    Assert.True(m.Seq == expectedSeq, $"{where}: expected seq {expectedSeq}");
                    expectedSeq = (expectedSeq + 1) % 256;
                    if (m.Type == "DBIRTH") { Learn(m, aliases, where); devices.Add(m.Device!); }
                    else if (m.Type == "DDEATH") devices.Remove(m.Device!);
                    else
                    {
                        if (m.Type == "DDATA") Assert.True(devices.Contains(m.Device!), $"{where}: DDATA for a device without DBIRTH");
                        foreach (var metric in m.Metrics)
                        {
                            Assert.False(metric.TryGetProperty("name", out _), $"{where}: DATA metrics go by alias only");
                            long alias = metric.GetProperty("alias").GetInt64();
                            Assert.True(aliases.TryGetValue(alias, out var declared), $"{where}: alias {alias} was not announced in a BIRTH");
                            Assert.Equal(declared.Type, metric.GetProperty("type").GetString());
                        }
                    }
                    break;
            }
            current?.Messages.Add(m);
        }
        return sessions;
    }

    private static void Learn(DecodedMessage birth, Dictionary<long, (string Name, string Type)> aliases, string where)
    {
        foreach (var metric in birth.Metrics)
        {
            string name = metric.GetProperty("name").GetString()!;
            Assert.True(metric.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String, $"{where}: {name} without a data type");
            if (!metric.TryGetProperty("alias", out var alias)) continue;
            Assert.True(aliases.TryAdd(alias.GetInt64(), (name, type.GetString()!)), $"{where}: alias {alias} used twice");
        }
    }

    /// <summary>The name an alias stands for in the BIRTH messages before <paramref name="index"/>.</summary>
    public static string NameOf(IReadOnlyList<DecodedMessage> messages, int index, long alias)
    {
        for (int i = index; i >= 0; i--)
            if (messages[i].Type is "NBIRTH" or "DBIRTH")
                foreach (var metric in messages[i].Metrics)
                    if (metric.TryGetProperty("alias", out var a) && a.GetInt64() == alias) return metric.GetProperty("name").GetString()!;
        throw new Xunit.Sdk.XunitException($"alias {alias} unknown before message {index}");
    }
}
