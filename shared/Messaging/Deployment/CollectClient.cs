using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgePatchCore.Deployment;

/// <summary>
/// The collecting half of the collect protocol (<see cref="CollectProtocol"/>; the agent's TeachService answers):
/// asks for the teach set's list, fetches each listed file chunk by chunk (each checked against its SHA-256, the
/// whole file against the list, resuming a file from its last complete chunk), and asks the device to clear what
/// was collected. Every request is signed with the operator's key (unsigned without one, which only a lab agent
/// without trusted keys takes); an answer counts only when it names the device asked (its id when one was given, its
/// topic prefix) and the nonce of the request it answers: anything else on the answer topic is ignored and counted.
/// </summary>
public sealed class CollectClient : IDisposable
{
    /// <summary>What fetching one file did.</summary>
    public enum Fetch { Kept, Fetched, Resumed }

    private sealed record Received(string? Type, string? File, int Index, int Count, string? Sha256, string? Request, byte[] Payload);

    private readonly IMqttClient _client;
    private readonly string _prefix, _collectId;
    private readonly string? _deviceId;
    private readonly ECDsa? _key;
    private readonly TimeSpan _timeout;
    private readonly Channel<Received> _received;
    private string _nonce = "";

    private CollectClient(IMqttClient client, string prefix, string? deviceId, ECDsa? key, string collectId, TimeSpan timeout,
        Channel<Received> received)
    {
        _client = client;
        _prefix = prefix;
        _deviceId = deviceId;
        _key = key;
        _collectId = collectId;
        _timeout = timeout;
        _received = received;
    }

    /// <summary>Messages on the answer topic that did not answer this collector's request (another device's, a forged or an old one).</summary>
    public int Ignored { get; private set; }

    /// <summary>
    /// Connects (<paramref name="connect"/> makes the MQTT connection with the given receive handler) and subscribes to
    /// this collection's answer topic. <paramref name="timeout"/> bounds each wait for an answer. Requests are signed with
    /// <paramref name="key"/> (when given); answers must come from <paramref name="deviceId"/> (when given) under <paramref name="prefix"/>.
    /// </summary>
    public static async Task<CollectClient> ConnectAsync(Func<Func<MqttApplicationMessageReceivedEventArgs, Task>, CancellationToken,
        Task<IMqttClient>> connect,
                                                         string prefix, string? deviceId, ECDsa? key, TimeSpan timeout, CancellationToken cancel)
    {
        string collectId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var received = Channel.CreateUnbounded<Received>();
        var client = await connect(e =>
        {
            var m = e.ApplicationMessage;
            string? Property(string name) => m.UserProperties?.FirstOrDefault(p => p.Name == name)?.ReadValueAsString();
            int Number(string name) => int.TryParse(Property(name), out int v) ? v : -1;
            received.Writer.TryWrite(new Received(Property(DeployProtocol.TypeProperty), Property(CollectProtocol.FileProperty),
                Number(DeployProtocol.IndexProperty),
                                                  Number("count"), Property(DeployProtocol.HashProperty), Property(CollectProtocol.RequestProperty),
                                                  System.Buffers.BuffersExtensions.ToArray(m.Payload)));
            return Task.CompletedTask;
        }, cancel);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(CollectProtocol.AnswerTopic(prefix, collectId), MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel);
        return new CollectClient(client, prefix, deviceId, key, collectId, timeout, received);
    }

    /// <summary>The teach set's list (frames taught at or after <paramref name="since"/>).</summary>
    /// <exception cref="DeployException">The device answered with an error or not in time.</exception>
    public async Task<CollectAnswer> ListAsync(DateTimeOffset? since, CancellationToken cancel)
    {
        await AskAsync(new CollectRequest(CollectProtocol.List, _collectId, since), cancel);
        return await AnswerAsync(CollectProtocol.List, "the teach set's list", cancel);
    }

    /// <summary>Makes the device serve the signed model for <paramref name="product"/> (null: every product) again, instead of one derived by
    /// teaching.</summary>
    public async Task<string?> RevertAsync(string? product, CancellationToken cancel)
    {
        await AskAsync(new CollectRequest(CollectProtocol.Revert, _collectId, Product: product), cancel);
        return (await AnswerAsync(CollectProtocol.Reverted, "the device to revert its derived model", cancel)).Message;
    }

    /// <summary>The next answer of <paramref name="type"/> to the request just sent (an error answer throws); chunks and others' messages are
    /// skipped.</summary>
    private async Task<CollectAnswer> AnswerAsync(string type, string waitingFor, CancellationToken cancel)
    {
        while (true)
        {
            var received = await NextAsync(waitingFor, cancel);
            if (received.Type is not null) continue; // a chunk of an earlier request
            CollectAnswer? answer;
            try { answer = JsonSerializer.Deserialize<CollectAnswer>(received.Payload, DeployProtocol.Json); }
            catch (JsonException) { answer = null; }
            if (answer is null || !FromDevice(answer)) { Ignored++; continue; }
            if (answer.Type == CollectProtocol.Error) throw new DeployException($"{_prefix}: {answer.Message}");
            if (answer.Type == type) return answer;
        }
    }

    /// <summary>Whether <paramref name="answer"/> answers this collector's last request, from the device it asked.</summary>
    private bool FromDevice(CollectAnswer answer) =>
        answer.RequestNonce == _nonce && answer.Prefix == _prefix && (_deviceId is null || answer.DeviceId == _deviceId);

    /// <summary>
    /// One listed file into <paramref name="folder"/> under its own name: kept when it is already there with the listed
    /// hash, resumed from its last complete chunk in ".NAME.part", else fetched; renamed into place only when the whole
    /// file matches the list.
    /// </summary>
    /// <exception cref="DeployException">An unsafe name, a refusal, a damaged chunk or file, or no answer in time.</exception>
    public async Task<Fetch> FetchAsync(CollectEntry entry, string folder, int chunkSize, CancellationToken cancel)
    {
        string name = Path.GetFileName(entry.File);
        if (name.Length == 0 || name != entry.File[(entry.File.LastIndexOf('/') + 1)..] || name.StartsWith('.'))
            throw new DeployException($"{_prefix} listed a file name this collector will not write: '{entry.File}'");
        string target = Path.Combine(folder, name), part = Path.Combine(folder, "." + name + ".part");
        if (File.Exists(target) && DeployProtocol.Hex(SHA256.HashData(File.ReadAllBytes(target))) == entry.Sha256) return Fetch.Kept;
        int from = 0;
        if (File.Exists(part))
        {
            from = (int)(new FileInfo(part).Length / chunkSize);
            using (var trim = File.OpenWrite(part)) trim.SetLength((long)from * chunkSize); // drop a torn last chunk
        }
        else File.WriteAllBytes(part, []);
        int count = (int)DeployProtocol.ChunkCountFor(entry.Size, chunkSize);
        if (from < count)
        {
            await AskAsync(new CollectRequest(CollectProtocol.Get, _collectId, File: entry.File, From: from, ChunkSize: chunkSize), cancel);
            using var stream = new FileStream(part, FileMode.Append, FileAccess.Write);
            for (int index = from; index < count;)
            {
                var chunk = await NextAsync($"chunk {index} of {entry.File}", cancel);
                if (chunk.Type is null && Answer(chunk) is { Type: CollectProtocol.Error } refused && FromDevice(refused))
                    throw new DeployException($"{_prefix}: {refused.Message}");
                if (chunk.Type == CollectProtocol.Chunk && chunk.Request != _nonce) { Ignored++; continue; } // not an answer to this request
                if (chunk.Type != CollectProtocol.Chunk || chunk.File != entry.File
                    || chunk.Index != index) continue; // another file's or a repeated chunk
                if (chunk.Count != count || DeployProtocol.Hex(SHA256.HashData(chunk.Payload)) != chunk.Sha256)
                    throw new DeployException($"chunk {index} of {entry.File} arrived damaged (hash or count mismatch); run collect again to resume");
                stream.Write(chunk.Payload);
                index++;
            }
        }
        if (DeployProtocol.Hex(SHA256.HashData(File.ReadAllBytes(part))) != entry.Sha256)
        {
            File.Delete(part);
            throw new DeployException($"{entry.File}: the whole file's SHA-256 does not match the list; it was deleted, run collect again");
        }
        File.Move(part, target, overwrite: true);
        return from > 0 ? Fetch.Resumed : Fetch.Fetched;
    }

    /// <summary>Asks the device to forget exactly these collected files; returns its answer's message.</summary>
    public async Task<string?> ClearAsync(IReadOnlyList<string> files, CancellationToken cancel)
    {
        await AskAsync(new CollectRequest(CollectProtocol.Clear, _collectId, Files: files), cancel);
        return (await AnswerAsync(CollectProtocol.Cleared, "the device to clear its teach set", cancel)).Message;
    }

    private static CollectAnswer? Answer(Received received)
    {
        try { return JsonSerializer.Deserialize<CollectAnswer>(received.Payload, DeployProtocol.Json); }
        catch (JsonException) { return null; }
    }

    public Task DisconnectAsync() => _client.DisconnectAsync(cancellationToken: CancellationToken.None);

    public void Dispose() => _client.Dispose();

    /// <summary>Sends <paramref name="request"/> bound to this device, now and a fresh nonce, signed when a key was given.</summary>
    private Task AskAsync(CollectRequest request, CancellationToken cancel)
    {
        var now = DateTimeOffset.UtcNow;
        _nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        byte[] statement = JsonSerializer.SerializeToUtf8Bytes(request with { Device = _prefix, IssuedAt = now, ExpiresAt = now
            + CollectProtocol.Validity, Nonce = _nonce },
                                                               DeployProtocol.Json);
        var signed = _key is null ? SignedStatement.Unsigned(statement) : SignedStatement.Sign(statement, _key);
        return _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(CollectProtocol.RequestTopic(_prefix))
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(signed,
                DeployProtocol.Json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel);
    }

    private async Task<Received> NextAsync(string waitingFor, CancellationToken cancel)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        wait.CancelAfter(_timeout);
        try { return await _received.Reader.ReadAsync(wait.Token); }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new DeployException($"no answer from {_prefix} in {_timeout.TotalSeconds:F0} s while waiting for {waitingFor} (is the agent " +
                $"running and connected?)");
        }
    }
}
