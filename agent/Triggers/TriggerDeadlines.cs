using System.Text.Json;
using System.Diagnostics.Metrics;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// Every 5 ms: answers ERROR the parts whose deadline passed (<see cref="TriggerBook.ExpireDue"/>), and publishes the trigger state
/// (retained, on {prefix}/trigger/state) whenever it changes, so a PLC or SCADA can interlock: <c>{"ready": true, "open": 0}</c>, or
/// <c>{"ready": false, "open": 1, "reason": "..."}</c>.
/// </summary>
public sealed class TriggerDeadlines : BackgroundService
{
    private readonly TriggerBook book;
    private readonly BrokerConnection broker;
    private readonly TopicNames topics;
    private readonly ILogger<TriggerDeadlines> logger;

    public TriggerDeadlines(TriggerBook book, BrokerConnection broker, TopicNames topics, IMeterFactory meters, ILogger<TriggerDeadlines> logger)
    {
        (this.book, this.broker, this.topics, this.logger) = (book, broker, topics, logger);
        var meter = meters.Create(Web.AgentInstruments.MeterName, BrokerConnection.Version);
        meter.CreateObservableCounter("edgepatchcore.triggers.answered", () => book.Answered, "{part}", "Triggers answered on {prefix}/result");
        meter.CreateObservableCounter("edgepatchcore.triggers.deadline.missed", () => book.Expired, "{part}",
                                      "Triggers answered ERROR at their deadline (camera-timeout, scoring-timeout)");
        meter.CreateObservableCounter("edgepatchcore.triggers.late", () => book.Late, "{part}", "Results that came after their part's deadline");
        meter.CreateObservableGauge("edgepatchcore.triggers.open", () => book.Open, "{part}", "Triggers waiting for their answers");
    }

    public const string StateSchema = "edgepatchcore.trigger-state/1";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        string? published = null;
        bool wasConnected = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            book.ExpireDue();
            string? reason = book.NotReady;
            int open = book.Open;
            string state = $"{reason is null}|{open}|{reason}";
            // Ready only once {prefix}/trigger is subscribed: a trigger sent on an earlier "ready" would be lost.
            bool connected = broker.IsSubscribed, reconnected = connected && !wasConnected;
            wasConnected = connected;
            if (!connected || (state == published && !reconnected)) continue; // a reconnect publishes again: the broker may have restarted
            var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
            {
                ["schema"] = StateSchema, ["ready"] = reason is null, ["busy"] = open > 0, ["open"] = open, ["reason"] = reason,
                ["at"] = DateTimeOffset.UtcNow,
            });
            var message = new MqttApplicationMessageBuilder().WithTopic(topics.TriggerState).WithPayload(payload).WithRetainFlag()
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json").Build();
            if (await broker.PublishMessageAsync(message, stoppingToken))
            {
                if (published is not null && (published.StartsWith("True", StringComparison.Ordinal) != (reason is null)))
                    logger.LogInformation("Trigger state: {State}", reason is null ? "ready" : $"not ready ({reason})");
                published = state;
            }
        }
    }
}
