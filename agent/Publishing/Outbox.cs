using System.Buffers.Binary;
using System.Text;

namespace EdgePatchCore.Agent.Publishing;

public sealed record OutboxMessage(long Sequence, string Topic, byte[] Payload);

/// <summary>
/// Messages that must reach the broker (verdicts, events), one file per message in a folder, written
/// (temp file, fsync, rename) before anything is published and deleted only when the broker has
/// acknowledged it, so neither a broker outage nor a crash or power cut loses one. Sequence numbers
/// keep the order across restarts. Cap policy: beyond <c>maxMessages</c> the oldest are discarded,
/// counted in <see cref="Discarded"/> and logged; a plant prefers recent verdicts over old ones.
/// </summary>
public sealed class Outbox
{
    private const string Suffix = ".msg";
    private static readonly byte[] Magic = "EPCOUT1\n"u8.ToArray();
    private readonly string _directory;
    private readonly int _maxMessages;
    private readonly bool _sync;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly SortedSet<long> _pending = [];
    private readonly SemaphoreSlim _signal = new(0);
    private long _next;
    private long _discarded;

    public Outbox(string directory, int maxMessages, bool sync, ILogger logger)
    {
        _directory = directory;
        _maxMessages = maxMessages;
        _sync = sync;
        _logger = logger;
        Directory.CreateDirectory(directory);
        foreach (var tmp in Directory.EnumerateFiles(directory, "*.tmp")) File.Delete(tmp); // torn writes of a crash
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Suffix))
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), out long seq)) _pending.Add(seq);
        _next = _pending.Count == 0 ? 1 : _pending.Max + 1;
        if (_pending.Count > 0) logger.LogInformation("Outbox {Directory}: {Count} message(s) from before the restart to publish", directory, _pending.Count);
    }

    public int Count { get { lock (_lock) return _pending.Count; } }
    public long Discarded => Interlocked.Read(ref _discarded);

    /// <summary>Stores a message durably; returns once it is on disk.</summary>
    public long Append(string topic, byte[] payload)
    {
        long seq;
        lock (_lock) seq = _next++;
        var topicBytes = Encoding.UTF8.GetBytes(topic);
        var header = new byte[Magic.Length + 8];
        Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(Magic.Length), topicBytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(Magic.Length + 4), payload.Length);
        string final = PathOf(seq), temp = final + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
        {
            stream.Write(header);
            stream.Write(topicBytes);
            stream.Write(payload);
            stream.Flush(flushToDisk: _sync);
        }
        File.Move(temp, final, overwrite: true);

        long? evicted = null;
        lock (_lock)
        {
            _pending.Add(seq);
            if (_pending.Count > _maxMessages)
            {
                evicted = _pending.Min;
                _pending.Remove(evicted.Value);
            }
        }
        if (evicted is { } old)
        {
            TryDelete(old);
            long n = Interlocked.Increment(ref _discarded);
            if (n == 1 || n % 1000 == 0)
                _logger.LogWarning("Outbox full ({Max} messages): discarded the oldest unpublished message ({Total} so far)", _maxMessages, n);
        }
        _signal.Release();
        return seq;
    }

    /// <summary>The oldest message not yet acknowledged, or null when there is none.</summary>
    public OutboxMessage? Peek()
    {
        while (true)
        {
            long seq;
            lock (_lock)
            {
                if (_pending.Count == 0) return null;
                seq = _pending.Min;
            }
            var message = TryRead(seq);
            if (message is not null) return message;
            Remove(seq); // unreadable (disk trouble): set aside, keep going
        }
    }

    /// <summary>Deletes an acknowledged message.</summary>
    public void Remove(long sequence)
    {
        lock (_lock) _pending.Remove(sequence);
        TryDelete(sequence);
    }

    /// <summary>Waits until a message is appended (or the timeout passes).</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancel) => _signal.WaitAsync(timeout, cancel);

    private OutboxMessage? TryRead(long seq)
    {
        string path = PathOf(seq);
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < Magic.Length + 8 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException("not an outbox entry");
            int topicLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length));
            int payloadLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length + 4));
            int start = Magic.Length + 8;
            if (topicLength < 0 || payloadLength < 0 || (long)start + topicLength + payloadLength != bytes.Length)
                throw new InvalidDataException("sizes do not add up");
            return new OutboxMessage(seq, Encoding.UTF8.GetString(bytes, start, topicLength),
                                     bytes.AsSpan(start + topicLength, payloadLength).ToArray());
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            _logger.LogError("Outbox entry {Path} is unreadable ({Reason}); moving it to corrupt/", path, e.Message);
            try
            {
                Directory.CreateDirectory(Path.Combine(_directory, "corrupt"));
                File.Move(path, Path.Combine(_directory, "corrupt", Path.GetFileName(path)), overwrite: true);
            }
            catch (IOException) { }
            return null;
        }
    }

    private void TryDelete(long seq)
    {
        try { File.Delete(PathOf(seq)); }
        catch (IOException e) { _logger.LogWarning("Cannot delete outbox entry {Seq}: {Reason}", seq, e.Message); }
    }

    private string PathOf(long seq) => Path.Combine(_directory, seq.ToString("D16") + Suffix);
}
