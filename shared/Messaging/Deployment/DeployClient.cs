using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgePatchCore.Deployment;

/// <summary>
/// The sending half of the deploy protocol (<see cref="DeployProtocol"/>; the agent's DeployService and
/// <see cref="TransferStore{TSlot}"/> receive): publishes begin, the chunks the device lists as missing, commit or
/// rollback on {prefix}/deploy/request, and waits for the device's answers on {prefix}/deploy/status.
/// </summary>
public sealed class DeployClient : IDisposable
{
    private readonly IMqttClient _client;
    private readonly string _prefix;
    private readonly TimeSpan _timeout;
    private readonly Channel<DeployStatus> _answers;

    private DeployClient(IMqttClient client, string prefix, TimeSpan timeout, Channel<DeployStatus> answers)
    {
        _client = client;
        _prefix = prefix;
        _timeout = timeout;
        _answers = answers;
    }

    /// <summary>
    /// Connects (<paramref name="connect"/> makes the MQTT connection with the given receive handler) and subscribes to
    /// the device's deploy answers. <paramref name="timeout"/> bounds each wait for an answer, and requests expire with it.
    /// </summary>
    public static async Task<DeployClient> ConnectAsync(Func<Func<MqttApplicationMessageReceivedEventArgs, Task>, CancellationToken,
        Task<IMqttClient>> connect,
                                                        string prefix, TimeSpan timeout, CancellationToken cancel)
    {
        var answers = Channel.CreateUnbounded<DeployStatus>();
        var client = await connect(e =>
        {
            try
            {
                if (JsonSerializer.Deserialize<DeployStatus>(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload),
                    DeployProtocol.Json) is { } status)
                    answers.Writer.TryWrite(status);
            }
            catch (JsonException) { }
            return Task.CompletedTask;
        }, cancel);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(DeployProtocol.StatusTopic(prefix),
            MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel);
        return new DeployClient(client, prefix, timeout, answers);
    }

    public Task DisconnectAsync() => _client.DisconnectAsync(cancellationToken: CancellationToken.None);

    public void Dispose() => _client.Dispose();

    /// <summary>The product the device serves, from its retained status (for a rollback that names none); null when it serves several or none, or
    /// published no status.</summary>
    public async Task<string?> ServedProductAsync(CancellationToken cancel)
    {
        var found = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task Handler(MqttApplicationMessageReceivedEventArgs e)
        {
            if (e.ApplicationMessage.Topic != _prefix + "/status") return Task.CompletedTask;
            try
            {
                using var json = JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
                var models = json.RootElement.GetProperty("models");
                found.TrySetResult(models.GetArrayLength() == 1 ? models[0].GetProperty("product").GetString() : null);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException) { found.TrySetResult(null); }
            return Task.CompletedTask;
        }
        _client.ApplicationMessageReceivedAsync += Handler;
        try
        {
            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_prefix + "/status").Build(), cancel);
            var product = await found.Task.WaitAsync(TimeSpan.FromSeconds(5), cancel);
            return product;
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            _client.ApplicationMessageReceivedAsync -= Handler;
        }
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> (the artifact file <paramref name="fileName"/>) in chunks of <paramref name="chunkSize"/>
    /// bytes, round after round of what the device still misses, commits, and returns the device's "deployed" answer.
    /// <paramref name="note"/> receives one line per step (resuming, sending, waiting).
    /// </summary>
    /// <exception cref="DeployException">The device refused, kept missing chunks, or did not answer in time.</exception>
    public async Task<DeployStatus> SendAsync(string fileName, byte[] bytes, Artifact artifact, int chunkSize, string? slot,
                                              Action<string> note, IProgress<StageProgress>? progress, CancellationToken cancel)
    {
        string sha = DeployProtocol.Hex(SHA256.HashData(bytes));
        var begin = new DeployBegin(DeployProtocol.TransferIdOf(sha), Path.GetFileName(fileName), bytes.Length, sha, chunkSize,
                                    (int)DeployProtocol.ChunkCountFor(bytes.Length, chunkSize), artifact.Content.Manifest.Product, slot,
                                        artifact.Release?.Version);
        int rounds = 0, lastMissing = int.MaxValue;
        for (int round = 0; ; round++)
        {
            var beginPayload = JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json);
            var status = await RequestAsync(DeployProtocol.Begin, begin.TransferId, beginPayload, cancel);
            if (status.State == DeployProtocol.Refused) throw new DeployException($"refused by the device: {status.Reason}");
            var missing = status.Missing ?? [];
            int missingCount = status.MissingCount ?? missing.Length;
            // Each round sends what the device lists (at most 1,024 chunks); give up only when rounds stop making progress.
            if (missingCount >= lastMissing
                && ++rounds >= 5) throw new DeployException("the device kept missing chunks after 5 rounds without progress");
            lastMissing = missingCount;
            if (round == 0 && missingCount < begin.ChunkCount)
                note($"resuming: {begin.ChunkCount - missingCount} of {begin.ChunkCount} chunks are already on the device");
            note($"sending {missing.Length} chunk(s) of {chunkSize >> 10} KiB"
                + (missingCount > missing.Length ? $" ({missingCount} missing in all)" : ""));
            for (int i = 0; i < missing.Length; i++)
            {
                int index = missing[i];
                var chunk = bytes.AsMemory((int)((long)index * chunkSize), begin.ChunkLength(index));
                var message = new MqttApplicationMessageBuilder().WithTopic(DeployProtocol.RequestTopic(_prefix)).WithPayloadSegment(chunk)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithMessageExpiryInterval(Expiry(_timeout))
                    .WithUserProperty(DeployProtocol.TypeProperty, Utf8(DeployProtocol.Chunk))
                    .WithUserProperty(DeployProtocol.TransferProperty, Utf8(begin.TransferId))
                    .WithUserProperty(DeployProtocol.IndexProperty, Utf8(index.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    .WithUserProperty(DeployProtocol.HashProperty, Utf8(DeployProtocol.Hex(SHA256.HashData(chunk.Span)))).Build();
                await _client.PublishAsync(message, cancel);
                progress?.Report(new StageProgress("deploy", i + 1, missing.Length));
            }
            note("waiting for the device to verify and load the model");
            status = await RequestAsync(DeployProtocol.Commit, begin.TransferId, [], cancel);
            switch (status.State)
            {
                case DeployProtocol.Deployed:
                    return status;
                case DeployProtocol.Refused:
                    throw new DeployException($"refused by the device: {status.Reason}");
            }
            // Still missing chunks (lost on the way, or beyond the listed ones): another round sends just those.
        }
    }

    /// <summary>Asks the device to serve the model it served before its last deployment; returns its "rolled back" answer.</summary>
    /// <exception cref="DeployException">The device refused or did not answer in time.</exception>
    public async Task<DeployStatus> RollbackAsync(string? product, RollbackAuthorization? authorization, CancellationToken cancel)
    {
        var request = new DeployRollback(Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant(), product, authorization);
        // Not repeated when unanswered: a rollback is not idempotent (a second one would go back further).
        await PublishAsync(DeployProtocol.Rollback, request.TransferId, JsonSerializer.SerializeToUtf8Bytes(request, DeployProtocol.Json), cancel);
        var status = await AwaitAsync(request.TransferId, resend: null, cancel);
        if (status.State != DeployProtocol.RolledBack) throw new DeployException($"rollback refused by the device: {status.Reason}");
        return status;
    }

    /// <summary>
    /// Requests expire with the wait: an agent that is offline now must not act on them hours later,
    /// when nobody is waiting for the answer (the broker keeps its session's messages until then).
    /// </summary>
    private static uint Expiry(TimeSpan timeout) => (uint)Math.Clamp(timeout.TotalSeconds, 1, uint.MaxValue);

    private Task PublishAsync(string type, string transfer, byte[] payload, CancellationToken cancel) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(DeployProtocol.RequestTopic(_prefix)).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithMessageExpiryInterval(Expiry(_timeout))
            .WithUserProperty(DeployProtocol.TypeProperty, Utf8(type))
            .WithUserProperty(DeployProtocol.TransferProperty, Utf8(transfer)).Build(), cancel);

    /// <summary>
    /// Publishes a begin or commit (both idempotent on the device) and waits for its answer, publishing it again
    /// while none comes: under a flood the device drops requests rather than queue them without bound, and a lost
    /// commit must not leave the trainer waiting out the whole timeout. Answers to earlier requests still in the
    /// queue are dropped first, so that a stale "receiving" is not taken for this request's answer.
    /// </summary>
    private async Task<DeployStatus> RequestAsync(string type, string transfer, byte[] payload, CancellationToken cancel)
    {
        while (_answers.Reader.TryRead(out _)) { }
        await PublishAsync(type, transfer, payload, cancel);
        return await AwaitAsync(transfer, () => PublishAsync(type, transfer, payload, cancel), cancel);
    }

    private async Task<DeployStatus> AwaitAsync(string transfer, Func<Task>? resend, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(_timeout);
        var nudge = TimeSpan.FromSeconds(Math.Clamp(_timeout.TotalSeconds / 4, 5, 30));
        try
        {
            while (true)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
                if (resend is not null) wait.CancelAfter(nudge);
                try
                {
                    var status = await _answers.Reader.ReadAsync(wait.Token);
                    if (status.TransferId == transfer) return status;
                }
                catch (OperationCanceledException) when (!limit.IsCancellationRequested)
                {
                    await resend!(); // no answer yet: the request may have been dropped
                }
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new DeployException($"no answer from {_prefix} within {_timeout.TotalSeconds:F0} s: is the agent running and connected to this " +
                $"broker?");
        }
    }

    private static ReadOnlyMemory<byte> Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}
