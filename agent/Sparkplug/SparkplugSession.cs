using EdgePatchCore.Agent.Sparkplug.Protocol;
using Google.Protobuf;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// One Sparkplug session of the edge node (one MQTT connection, one bdSeq): builds its messages and numbers
/// them. seq is 0 on NBIRTH and goes up by one, modulo 256, with every NBIRTH, DBIRTH, NDATA, DDATA and
/// DDEATH that follows; NDEATH carries no seq, only the session's bdSeq. BIRTH metrics carry name, alias and
/// data type; DATA metrics carry the alias and the data type (see docs/SPARKPLUG.md for why the type).
/// Not thread-safe: the edge node's single publishing loop owns it.
/// </summary>
public sealed class SparkplugSession(SparkplugTopics topics, long bdSeq)
{
    private ulong _nextSeq;

    public long BdSeq { get; } = bdSeq;
    public SparkplugTopics Topics { get; } = topics;

    /// <summary>NDEATH: the MQTT Will registered at connect, and what a clean stop publishes.</summary>
    public SparkplugMessage NodeDeath() =>
        new(Topics.Node("NDEATH"), Encode(new Payload { Timestamp = Now(), Metrics = { Metric(NodeMetrics.BdSeq, BdSeq, birth: true, Now()) } },
            seq: null));

    /// <summary>NBIRTH (seq 0): bdSeq, the rebirth control and every node metric with its value.</summary>
    public SparkplugMessage NodeBirth(IEnumerable<(MetricDefinition Metric, object? Value)> values)
    {
        _nextSeq = 0;
        ulong at = Now();
        var payload = new Payload { Timestamp = at };
        payload.Metrics.Add(Metric(NodeMetrics.BdSeq, BdSeq, birth: true, at));
        payload.Metrics.Add(Metric(NodeMetrics.Rebirth, false, birth: true, at));
        foreach (var (metric, value) in values) payload.Metrics.Add(Metric(metric, value, birth: true, at));
        return new(Topics.Node("NBIRTH"), Encode(payload, NextSeq()));
    }

    public SparkplugMessage NodeData(IEnumerable<(MetricDefinition Metric, object? Value)> values) =>
        new(Topics.Node("NDATA"), Data(values, Now(), historical: false));

    public SparkplugMessage DeviceBirth(string deviceId, IEnumerable<(MetricDefinition Metric, object? Value)> values)
    {
        ulong at = Now();
        var payload = new Payload { Timestamp = at };
        foreach (var (metric, value) in values) payload.Metrics.Add(Metric(metric, value, birth: true, at));
        return new(Topics.Device("DBIRTH", deviceId), Encode(payload, NextSeq()));
    }

    /// <summary>DDATA stamped <paramref name="at"/> (the verdict's time); <paramref name="historical"/> for stored verdicts replayed after an
    /// outage.</summary>
    public SparkplugMessage DeviceData(string deviceId, IEnumerable<(MetricDefinition Metric, object? Value)> values, DateTimeOffset at,
        bool historical) =>
        new(Topics.Device("DDATA", deviceId), Data(values, (ulong)at.ToUnixTimeMilliseconds(), historical));

    public SparkplugMessage DeviceDeath(string deviceId) =>
        new(Topics.Device("DDEATH", deviceId), Encode(new Payload { Timestamp = Now() }, NextSeq()));

    private byte[] Data(IEnumerable<(MetricDefinition Metric, object? Value)> values, ulong at, bool historical)
    {
        var payload = new Payload { Timestamp = Now() };
        foreach (var (metric, value) in values)
        {
            var m = Metric(metric, value, birth: false, at);
            if (historical) m.IsHistorical = true;
            payload.Metrics.Add(m);
        }
        return Encode(payload, NextSeq());
    }

    private ulong NextSeq()
    {
        ulong seq = _nextSeq;
        _nextSeq = (_nextSeq + 1) % 256;
        return seq;
    }

    private static byte[] Encode(Payload payload, ulong? seq)
    {
        if (seq is { } s) payload.Seq = s;
        return payload.ToByteArray();
    }

    private static ulong Now() => (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>A metric on the wire: BIRTH with name (and alias when it has one), DATA by alias; null values are sent as is_null.</summary>
    public static Payload.Types.Metric Metric(MetricDefinition definition, object? value, bool birth, ulong at)
    {
        var m = new Payload.Types.Metric { Timestamp = at, Datatype = definition.DataType };
        if (birth || definition.Alias == 0) m.Name = definition.Name;
        if (definition.Alias != 0) m.Alias = definition.Alias;
        switch (value)
        {
            case null: m.IsNull = true; break;
            case string s: m.StringValue = s; break;
            case bool b: m.BooleanValue = b; break;
            case float f: m.FloatValue = f; break;
            case double d: m.DoubleValue = d; break;
            case long l: m.LongValue = unchecked((ulong)l); break;
            case ulong ul: m.LongValue = ul; break;
            case DateTimeOffset t: m.LongValue = (ulong)t.ToUnixTimeMilliseconds(); break;
            case byte[] bytes:
                m.BytesValue = ByteString.CopyFrom(bytes);
                m.Metadata = new Payload.Types.MetaData { ContentType = "image/jpeg", Size = (ulong)bytes.Length };
                break;
            default: throw new ArgumentException($"metric {definition.Name}: no Sparkplug value for {value.GetType().Name}");
        }
        return m;
    }
}
