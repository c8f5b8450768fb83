using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Sparkplug.Protocol;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using EdgePatchCore.Messaging;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// The agent as a Sparkplug B 3.0 edge node (docs/SPARKPLUG.md), on its own MQTT connection (same broker,
/// TLS and credentials as the JSON topics; client id {ClientId}-sparkplug), because the NDEATH must be that
/// connection's Will. Per session: a new bdSeq, connect with clean start and the NDEATH Will, subscribe to
/// NCMD, DCMD and the primary host's STATE, wait for the host when one is configured, then NBIRTH and one
/// DBIRTH per product, then DDATA for every verdict from the Sparkplug outbox and NDATA/DDATA for what changes.
/// One loop does all publishing, so seq is never shared between threads.
/// Over 300 lines on purpose: the session's single publishing loop owns seq and the births; its command handling shares that state.
/// </summary>
public sealed class SparkplugEdgeNode(
    IOptions<AgentOptions> options, SparkplugFeed feed, ModelStore.IServedModels models, IPipelineCounters metrics, Outbox jsonOutbox,
    BrokerConnection jsonBroker, DropCounter drops, ILogger<SparkplugEdgeNode> logger, Triggers.TriggerBook? triggers = null) : BackgroundService
{
    /// <summary>Commands waiting for the publishing loop; beyond it they are dropped and counted (rebirths are merged and never wait
    /// twice).</summary>
    public const int CommandQueue = 64;
    /// <summary>Metric names in logs and refusals are cut to this many characters.</summary>
    public const int MaxNameInText = 64;
    /// <summary>A primary host's STATE stamped further than this ahead of this device's clock is ignored (one stamped in the far future would hide
    /// every later STATE).</summary>
    public static readonly TimeSpan MaxStateAhead = TimeSpan.FromMinutes(10);
    private abstract record Command;
    private sealed record RebirthCommand : Command;
    private sealed record RefusedCommand(string Reason) : Command;
    private sealed record HostStateCommand(bool Online, long Timestamp) : Command;

    private readonly AgentOptions _options = options.Value;
    private readonly SparkplugTopics _topics = new(options.Value.Sparkplug.GroupId,
        string.IsNullOrEmpty(options.Value.Sparkplug.EdgeNodeId) ? options.Value.DeviceId : options.Value.Sparkplug.EdgeNodeId);
    private readonly BdSeqCounter _bdSeq = new(Path.Combine(options.Value.ResolvedStateDirectory, "sparkplug"));
    private readonly Channel<Command> _commands =
        Channel.CreateBounded<Command>(new BoundedChannelOptions(CommandQueue) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private int _rebirthQueued; // 1 while a rebirth waits in _commands: more requests merge into it
    // Added to by the session loop only; read by the receive loop too (a DCMD names its device).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly Queue<(DateTime SentAt, Verdict Verdict)> _recentlySent = new();
    private readonly Dictionary<MetricDefinition, object?> _nodeValues = new();
    private List<Verdict> _replay = [];
    private long _errorsWithoutModel;
    private string _lastCommand = "";
    private long _hostStateTimestamp = long.MinValue;
    private volatile bool _hostOnline;

    private string ClientId => (string.IsNullOrWhiteSpace(_options.Broker.ClientId) ? $"edgepatchcore-{_options.DeviceId}" : _options.Broker.ClientId)
        + "-sparkplug";
    private string PrimaryHost => _options.Sparkplug.PrimaryHostId;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await models.InitialLoad.WaitAsync(stop); // the births name the models' products
        int failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                bool clean = await RunSessionAsync(stop);
                failures = clean ? 0 : failures + 1;
                if (clean) continue; // the host went offline: reconnect at once and wait for it
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                failures++;
                if (failures == 1) logger.LogWarning("Sparkplug: session with {Host}:{Port} ended ({Type}: {Reason}); reconnecting with backoff",
                                                     _options.Broker.Host, _options.Broker.Port, e.GetType().Name, e.Message);
            }
            try { await Task.Delay(BrokerClientOptions.Backoff(_options.Broker, Math.Max(1, failures)), stop); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One MQTT session; true when it ended on purpose (the primary host went offline), false when the connection was lost.</summary>
    private async Task<bool> RunSessionAsync(CancellationToken stop)
    {
        var session = new SparkplugSession(_topics, _bdSeq.Next());
        var death = session.NodeDeath();
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += OnMessage;
        var connect = BrokerClientOptions.Base(_options.Broker, ClientId)
            .WithCleanStart(true).WithSessionExpiryInterval(0) // Sparkplug: no persistent session for an edge node
            .WithWillTopic(death.Topic).WithWillPayload(death.Payload)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithWillRetain(false);
        _hostOnline = false;
        await client.ConnectAsync(BrokerClientOptions.Secure(connect, _options.Broker, logger), stop);
        try
        {
            var subscribe = new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(_topics.NodeCommands, MqttQualityOfServiceLevel.AtLeastOnce)
                .WithTopicFilter(_topics.DeviceCommands, MqttQualityOfServiceLevel.AtLeastOnce);
            if (PrimaryHost.Length > 0) subscribe.WithTopicFilter(SparkplugTopics.State(PrimaryHost), MqttQualityOfServiceLevel.AtLeastOnce);
            await client.SubscribeAsync(subscribe.Build(), stop);
            if (PrimaryHost.Length > 0)
            {
                logger.LogInformation("Sparkplug: connected (bdSeq {BdSeq}); waiting for primary host {Host} to be online", session.BdSeq,
                    PrimaryHost);
                while (!_hostOnline) // set by its retained STATE message
                {
                    if (!client.IsConnected) return false;
                    await Task.Delay(100, stop);
                }
                while (_commands.Reader.TryRead(out var early)) // the births below answer whatever came before them
                {
                    if (early is RefusedCommand r) logger.LogWarning("Sparkplug: command refused: {Reason}", r.Reason);
                    else if (early is RebirthCommand) Interlocked.Exchange(ref _rebirthQueued, 0);
                }
            }
            var birthed = new HashSet<string>(StringComparer.Ordinal);
            await BirthAsync(client, session, birthed, stop);
            logger.LogInformation("Sparkplug: edge node {Group}/{Node} online (bdSeq {BdSeq}, devices {Devices})",
                                  _topics.GroupId, _topics.EdgeNodeId, session.BdSeq, string.Join(", ", birthed));
            var products = LoadedProducts();
            foreach (var verdict in _replay) await PublishVerdictAsync(client, session, verdict, products, replayed: true, stop);
            _replay = [];
            DateTimeOffset bornAt = DateTimeOffset.UtcNow;
            var backlog = new HashSet<DeviceState>();
            var nextReport = DateTime.UtcNow.AddSeconds(_options.Publishing.MetricsIntervalSeconds);
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                if (!client.IsConnected) { KeepForReplay(); return false; }
                var ended = await HandleCommandsAsync(client, session, birthed, stop);
                if (ended) return true;
                await FollowModelsAsync(client, session, birthed, stop);
                await DrainAsync(client, session, birthed, bornAt, backlog, stop);
                if (DateTime.UtcNow >= nextReport)
                {
                    await ReportChangesAsync(client, session, birthed, stop);
                    nextReport = DateTime.UtcNow.AddSeconds(_options.Publishing.MetricsIntervalSeconds);
                }
                if (feed.Outbox!.Count == 0) await feed.Outbox.WaitAsync(TimeSpan.FromMilliseconds(250), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A requested stop: say so (the Will is only for deaths the node cannot announce).
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                if (client.IsConnected)
                {
                    await PublishAsync(client, death, MqttQualityOfServiceLevel.AtLeastOnce, grace.Token);
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), grace.Token);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException) { logger.LogDebug("Sparkplug: clean disconnect failed ({Reason})", e.Message); }
            throw;
        }
        catch (Exception)
        {
            KeepForReplay();
            throw;
        }
    }

    /// <summary>NBIRTH, then a DBIRTH for every product with a loaded model (also the answer to a rebirth request).</summary>
    private async Task BirthAsync(IMqttClient client, SparkplugSession session, HashSet<string> birthed, CancellationToken stop)
    {
        var node = NodeValues();
        await PublishAsync(client, session.NodeBirth(node), MqttQualityOfServiceLevel.AtMostOnce, stop);
        foreach (var (metric, value) in node) _nodeValues[metric] = value;
        birthed.Clear();
        foreach (var product in LoadedProducts()) await DeviceBirthAsync(client, session, Device(product), birthed, stop);
    }

    private async Task DeviceBirthAsync(IMqttClient client, SparkplugSession session, DeviceState device, HashSet<string> birthed,
        CancellationToken stop)
    {
        device.Dropped = DroppedFor(device);
        await PublishAsync(client, session.DeviceBirth(device.DeviceId, device.Birth()), MqttQualityOfServiceLevel.AtMostOnce, stop);
        birthed.Add(device.Product);
    }

    /// <summary>A product whose model appeared gets its DBIRTH; one whose model is gone, its DDEATH.</summary>
    private async Task FollowModelsAsync(IMqttClient client, SparkplugSession session, HashSet<string> birthed, CancellationToken stop)
    {
        var loaded = LoadedProducts();
        foreach (var product in loaded.Where(p => !birthed.Contains(p)).ToList())
            await DeviceBirthAsync(client, session, Device(product), birthed, stop);
        foreach (var product in birthed.Where(p => !loaded.Contains(p)).ToList())
        {
            await PublishAsync(client, session.DeviceDeath(Device(product).DeviceId), MqttQualityOfServiceLevel.AtMostOnce, stop);
            birthed.Remove(product);
        }
    }

    /// <summary>
    /// Publishes the stored verdicts in order, each as DDATA of its product's device, and removes each once
    /// written. Verdicts scored before this session's NBIRTH (stored during an outage) are marked historical, so a
    /// host files them in its history without moving its live tags; the device's live values follow in one
    /// DDATA once the backlog is through.
    /// </summary>
    private async Task DrainAsync(IMqttClient client, SparkplugSession session, HashSet<string> birthed, DateTimeOffset bornAt,
                                  HashSet<DeviceState> backlog, CancellationToken stop)
    {
        var outbox = feed.Outbox!;
        var loaded = LoadedProducts(); // the births just followed the models; they do not change within one pass
        while (outbox.Peek() is { } message)
        {
            if (message.Topic == SparkplugFeed.ResultTopic)
            {
                await PublishAnswerAsync(client, session, message.Payload, loaded, birthed, stop);
                outbox.Remove(message.Sequence);
                continue;
            }
            Verdict? verdict = null;
            try { verdict = Verdict.FromJson(message.Payload); }
            catch (JsonException e) { logger.LogError("Sparkplug: a stored verdict cannot be read ({Reason}); skipped", e.Message); }
            if (verdict is not null)
            {
                var device = await PublishVerdictAsync(client, session, verdict, loaded, replayed: false, stop, birthed, bornAt);
                if (device is not null && verdict.ScoredAt < bornAt) backlog.Add(device);
                _recentlySent.Enqueue((DateTime.UtcNow, verdict));
            }
            outbox.Remove(message.Sequence);
            TrimRecentlySent();
        }
        foreach (var device in backlog)
            await PublishAsync(client, session.DeviceData(device.DeviceId, device.Birth(withHeatmap: false), DateTimeOffset.UtcNow,
                historical: false),
                               MqttQualityOfServiceLevel.AtMostOnce, stop);
        backlog.Clear();
    }

    /// <summary>One verdict as DDATA; returns its device, or null when no device has its product (then it counts as an error without
    /// model).</summary>
    private async Task<DeviceState?> PublishVerdictAsync(IMqttClient client, SparkplugSession session, Verdict verdict, IReadOnlyList<string> loaded,
                                                        bool replayed, CancellationToken stop, HashSet<string>? birthed = null,
                                                            DateTimeOffset? bornAt = null)
    {
        string? product = verdict.Product is { } p && loaded.Contains(p, StringComparer.Ordinal) ? p : loaded.Count == 1
            && verdict.Product is null ? loaded[0] : null;
        if (product is null || (birthed is not null && !birthed.Contains(product)))
        {
            if (!replayed) _errorsWithoutModel++;
            return null;
        }
        var device = Device(product);
        var values = replayed ? device.Replay(verdict) : device.Apply(verdict,
            verdict.Result == Verdict.Defect ? feed.TakeHeatmap(verdict.FrameId) : null);
        bool historical = replayed || (bornAt is { } born && verdict.ScoredAt < born);
        await PublishAsync(client, session.DeviceData(device.DeviceId, values, verdict.ScoredAt, historical), MqttQualityOfServiceLevel.AtMostOnce,
            stop);
        return device;
    }

    /// <summary>A handshake answer as DDATA of its product's device (the only device when it names none); skipped when no device has it.</summary>
    private async Task PublishAnswerAsync(IMqttClient client, SparkplugSession session, byte[] payload, IReadOnlyList<string> loaded,
                                          HashSet<string> birthed, CancellationToken stop)
    {
        Triggers.InspectionResult? result = null;
        try { result = Triggers.InspectionResult.FromJson(payload); }
        catch (JsonException e) { logger.LogError("Sparkplug: a stored answer cannot be read ({Reason}); skipped", e.Message); }
        if (result is null) return;
        string? product = result.Product is { } p && birthed.Contains(p) ? p : result.Product is null && birthed.Count == 1 ? birthed.First() : null;
        if (product is null || !loaded.Contains(product, StringComparer.Ordinal)) return; // the JSON topic has it
        var device = Device(product);
        await PublishAsync(client, session.DeviceData(device.DeviceId, device.Answer(result), result.AnsweredAt, historical: false),
                           MqttQualityOfServiceLevel.AtMostOnce, stop);
    }

    /// <summary>Every MetricsIntervalSeconds: NDATA for node metrics that changed, DDATA for dropped-frame counts that changed.</summary>
    private async Task ReportChangesAsync(IMqttClient client, SparkplugSession session, HashSet<string> birthed, CancellationToken stop)
    {
        var changed = NodeValues().Where(v => !Equals(_nodeValues.GetValueOrDefault(v.Metric), v.Value)).ToList();
        if (changed.Count > 0)
        {
            await PublishAsync(client, session.NodeData(changed), MqttQualityOfServiceLevel.AtMostOnce, stop);
            foreach (var (metric, value) in changed) _nodeValues[metric] = value;
        }
        foreach (var product in birthed)
        {
            var device = Device(product);
            long dropped = DroppedFor(device);
            if (dropped == device.Dropped) continue;
            device.Dropped = dropped;
            await PublishAsync(client, session.DeviceData(device.DeviceId, [(device.Metrics.Dropped, (ulong)dropped)], DateTimeOffset.UtcNow,
                historical: false),
                               MqttQualityOfServiceLevel.AtMostOnce, stop);
        }
    }

    /// <summary>Acts on the commands and STATE messages received; true when the session must end (the primary host went offline).</summary>
    private async Task<bool> HandleCommandsAsync(IMqttClient client, SparkplugSession session, HashSet<string> birthed, CancellationToken stop)
    {
        while (_commands.Reader.TryRead(out var command))
        {
            switch (command)
            {
                case RebirthCommand:
                    Interlocked.Exchange(ref _rebirthQueued, 0);
                    logger.LogInformation("Sparkplug: rebirth requested");
                    _lastCommand = $"{DateTime.UtcNow:O} rebirth: done";
                    await BirthAsync(client, session, birthed, stop);
                    break;
                case RefusedCommand refused:
                    logger.LogWarning("Sparkplug: command refused: {Reason}", refused.Reason);
                    _lastCommand = $"{DateTime.UtcNow:O} refused: {refused.Reason}";
                    await PublishAsync(client, session.NodeData([(NodeMetrics.LastCommand, _lastCommand)]), MqttQualityOfServiceLevel.AtMostOnce,
                        stop);
                    _nodeValues[NodeMetrics.LastCommand] = _lastCommand; // each refusal is reported, not only the last
                    break;
                case HostStateCommand { Online: false } when !_hostOnline: // still offline (a later online STATE would have set it)
                    logger.LogWarning("Sparkplug: primary host {Host} went offline; ending the session until it is back", PrimaryHost);
                    await PublishAsync(client, session.NodeDeath(), MqttQualityOfServiceLevel.AtLeastOnce, stop);
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), stop);
                    return true;
            }
        }
        return false;
    }

    private Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        string topic = e.ApplicationMessage.Topic;
        byte[] payload = e.ApplicationMessage.Payload.ToArray();
        try
        {
            if (PrimaryHost.Length > 0 && topic == SparkplugTopics.State(PrimaryHost))
            {
                using var json = JsonDocument.Parse(payload);
                bool online = json.RootElement.GetProperty("online").GetBoolean();
                long timestamp = json.RootElement.TryGetProperty("timestamp", out var t) ? t.GetInt64() : 0;
                long latest = DateTimeOffset.UtcNow.Add(MaxStateAhead).ToUnixTimeMilliseconds();
                if (timestamp > latest || timestamp < 0)
                {
                    drops.Drop("sparkplug-state",
                        $"a STATE of {PrimaryHost} stamped outside this device's clock (more than {MaxStateAhead.TotalMinutes:F0} min ahead, or " +
                            $"negative)");
                    return Task.CompletedTask;
                }
                if (timestamp < _hostStateTimestamp) return Task.CompletedTask; // an older STATE than one already seen
                _hostStateTimestamp = timestamp;
                _hostOnline = online;
                Enqueue(new HostStateCommand(online, timestamp));
            }
            else if (topic == _topics.NodeCommands)
            {
                // One NCMD is at most one rebirth (merged with any still waiting) and at most one refusal naming what was refused.
                var metrics = Payload.Parser.ParseFrom(payload).Metrics;
                var refused = metrics.Where(m => !IsRebirth(m)).ToList();
                if (metrics.Count > refused.Count && Interlocked.Exchange(ref _rebirthQueued, 1) == 0) Enqueue(new RebirthCommand());
                if (refused.Count > 0) Enqueue(new RefusedCommand($"NCMD {Names(refused)}: only {NodeMetrics.Rebirth.Name} = true is accepted"));
            }
            else
            {
                string device = Messages.Text.Cap(topic[(topic.LastIndexOf('/') + 1)..], MaxNameInText);
                var refused = Payload.Parser.ParseFrom(payload).Metrics.Where(m => !TryInspect(device, m)).ToList();
                if (refused.Count > 0)
                    Enqueue(new RefusedCommand($"DCMD {device}/{Names(refused)}: " + (triggers is null ? "device metrics are read-only"
                        : $"only a part id (1 to {Triggers.PartIds.MaxLength} printable characters) written to Trigger/Inspect is accepted")));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException
                                   or Google.Protobuf.InvalidProtocolBufferException)
        {
            Enqueue(new RefusedCommand($"unreadable message on {Messages.Text.Cap(topic, 256)}: {Messages.Text.Cap(ex.Message, 256)}"));
        }
        return Task.CompletedTask;
    }

    private static bool IsRebirth(Payload.Types.Metric m) =>
        (m.Name == NodeMetrics.Rebirth.Name || (!m.HasName && m.Alias == NodeMetrics.Rebirth.Alias)) && m.HasBooleanValue && m.BooleanValue;

    private void Enqueue(Command command)
    {
        if (_commands.Writer.TryWrite(command)) return;
        if (command is RebirthCommand) Interlocked.Exchange(ref _rebirthQueued, 0);
        drops.Drop("sparkplug-command", $"{CommandQueue} Sparkplug commands are waiting already");
    }

    /// <summary>The metrics' names for a log line or a refusal: each capped, at most three, then how many more.</summary>
    private static string Names(IReadOnlyCollection<Payload.Types.Metric> metrics)
    {
        var names = metrics.Take(3).Select(m => Messages.Text.Cap(m.HasName ? m.Name : $"alias {m.Alias}", MaxNameInText)).ToList();
        return metrics.Count > 3 ? $"{string.Join(", ", names)} and {metrics.Count - 3} more" : string.Join(", ", names);
    }

    private List<(MetricDefinition Metric, object? Value)> NodeValues()
    {
        var served = models.Snapshot();
        return
        [
            (NodeMetrics.LastCommand, _lastCommand),
            (NodeMetrics.Version, BrokerConnection.Version),
            (NodeMetrics.ModelsLoaded, (ulong)served.Count),
            (NodeMetrics.ModelIds, string.Join(",", served.Select(m => m.Id))),
            (NodeMetrics.JsonBroker, jsonBroker.IsConnected),
            (NodeMetrics.OutboxPending, (ulong)jsonOutbox.Count),
            (NodeMetrics.OutboxWritable, metrics.IsOutboxWritable),
            (NodeMetrics.FramesDropped, (ulong)metrics.Dropped),
            (NodeMetrics.ErrorsWithoutModel, (ulong)_errorsWithoutModel),
        ];
    }

    private List<string> LoadedProducts() =>
        models.Snapshot().Select(m => m.Product).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A DCMD metric writing a part id to a device's Trigger/Inspect (by name or alias): that part is triggered, scored with the device's
    /// product (true). Anything else is the caller's to refuse.
    /// </summary>
    private bool TryInspect(string deviceId, Payload.Types.Metric m)
    {
        if (triggers is null || _devices.Values.FirstOrDefault(d => d.DeviceId == deviceId) is not { } device) return false;
        var inspect = device.Metrics.Inspect;
        if (!(m.Name == inspect.Name || (!m.HasName && m.Alias == inspect.Alias)) || !m.HasStringValue
            || Triggers.PartIds.Problem(m.StringValue) is not null) return false;
        triggers.Trigger(m.StringValue, device.Product);
        return true;
    }

    private DeviceState Device(string product)
    {
        return _devices.GetOrAdd(product, p => new DeviceState(p, _devices.Count + 1, triggered: triggers is not null));
    }

    /// <summary>Dropped frames that named the device's product, plus those that named none when it is the only device.</summary>
    private long DroppedFor(DeviceState device) =>
        metrics.DroppedFor(device.Product) + (LoadedProducts().Count == 1 ? metrics.DroppedFor(null) : 0);

    private void TrimRecentlySent()
    {
        var window = TimeSpan.FromSeconds(_options.Publishing.RepublishWindowSeconds);
        while (_recentlySent.Count > 0 && (_recentlySent.Peek().SentAt < DateTime.UtcNow - window
            || _recentlySent.Count > 10_000)) _recentlySent.Dequeue();
    }

    /// <summary>
    /// A lost connection may have lost the QoS 0 messages written just before it: the verdicts sent in the
    /// last RepublishWindowSeconds are published again (as historical) in the next session.
    /// </summary>
    private void KeepForReplay()
    {
        TrimRecentlySent();
        _replay = _recentlySent.Select(r => r.Verdict).ToList();
        _recentlySent.Clear();
    }

    private static async Task PublishAsync(IMqttClient client, SparkplugMessage message, MqttQualityOfServiceLevel qos, CancellationToken stop)
    {
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(message.Topic).WithPayload(message.Payload)
            .WithQualityOfServiceLevel(qos).WithRetainFlag(false).Build(), stop);
        if (!result.IsSuccess) throw new MQTTnet.Exceptions.MqttCommunicationException($"publish to {message.Topic} failed: {result.ReasonCode} " +
            $"{result.ReasonString}");
    }
}
