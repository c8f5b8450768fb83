using System.Buffers.Binary;
using System.Text;
using EdgePatchCore.FileSystem;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Messaging;

/// <summary>
/// Messages that must reach the broker (verdicts, events), one file per message in a folder, written
/// (temp file, fsync, rename, fsync of the folder) before anything is published and deleted only when the
/// broker has acknowledged it, so neither a broker outage nor a crash or power cut loses one. Sequence
/// numbers keep the order across restarts. Cap policy: beyond <c>maxMessages</c> messages or
/// <c>maxBytes</c> bytes the oldest are discarded, counted in <see cref="Discarded"/> and logged; a plant
/// prefers recent verdicts over old ones. A message the broker will not take is moved to rejected/
/// (<see cref="SetAside"/>), which keeps the newest 1,000, so one bad message cannot block the rest.
/// </summary>
public sealed class Outbox
{
    private const string Suffix = ".msg";
    private static readonly byte[] Magic = "EPCOUT1\n"u8.ToArray();
    private readonly string _directory;
    private const int KeepRejected = 1000;
    private readonly int _maxMessages;
    private readonly long _maxBytes;
    private readonly bool _sync;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly SortedDictionary<long, long> _pending = []; // sequence -> bytes on disk
    private readonly SemaphoreSlim _signal = new(0);
    private long _next, _bytes;
    private long _discarded, _setAside;

    public Outbox(string directory, int maxMessages, bool sync, ILogger logger, long maxBytes = long.MaxValue)
    {
        _directory = directory;
        _maxMessages = maxMessages;
        _maxBytes = maxBytes;
        _sync = sync;
        _logger = logger;
        Directory.CreateDirectory(directory);
        foreach (var tmp in Directory.EnumerateFiles(directory, "*.tmp")) File.Delete(tmp); // torn writes of a crash
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Suffix))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(file), out long seq)) continue;
            long size = new FileInfo(file).Length;
            _pending[seq] = size;
            _bytes += size;
        }
        _next = _pending.Count == 0 ? 1 : _pending.Keys.Max() + 1;
        if (_pending.Count > 0) logger.LogInformation("Outbox {Directory}: {Count} message(s) from before the restart to publish", directory,
            _pending.Count);
    }

    public int Count { get { lock (_lock) return _pending.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }
    public long Discarded => Interlocked.Read(ref _discarded);
    /// <summary>How long the oldest message has waited for the broker (since it was written); null when none waits.</summary>
    public TimeSpan? OldestAge
    {
        get
        {
            long seq;
            lock (_lock)
            {
                if (_pending.Count == 0) return null;
                seq = _pending.Keys.First();
            }
            var written = File.GetLastWriteTimeUtc(PathOf(seq)); // 1601 when it was published meanwhile
            return written.Year < 2000 ? null : DateTime.UtcNow - written;
        }
    }

    /// <summary>Messages moved to rejected/ because the broker would not take them.</summary>
    public long SetAsideCount => Interlocked.Read(ref _setAside);

    /// <summary>
    /// Stores a message durably; returns once it is on disk. Throws <see cref="IOException"/> when it cannot
    /// be stored (a full or failing disk): nothing is half-written then, and the caller keeps the message.
    /// </summary>
    public long Append(string topic, byte[] payload)
    {
        long seq;
        lock (_lock) seq = _next++;
        var topicBytes = Encoding.UTF8.GetBytes(topic);
        var entry = new byte[Magic.Length + 8 + topicBytes.Length + payload.Length];
        Magic.CopyTo(entry, 0);
        BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(Magic.Length), topicBytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(Magic.Length + 4), payload.Length);
        topicBytes.CopyTo(entry, Magic.Length + 8);
        payload.CopyTo(entry, Magic.Length + 8 + topicBytes.Length);
        DurableFile.Write(PathOf(seq), entry, _sync);

        var evicted = new List<long>();
        lock (_lock)
        {
            _pending[seq] = entry.Length;
            _bytes += entry.Length;
            while (_pending.Count > 1 && (_pending.Count > _maxMessages || _bytes > _maxBytes))
            {
                long oldest = _pending.Keys.First();
                _bytes -= _pending[oldest];
                _pending.Remove(oldest);
                evicted.Add(oldest);
            }
        }
        foreach (var old in evicted)
        {
            TryDelete(old);
            long n = Interlocked.Increment(ref _discarded);
            if (n == 1 || n % 1000 == 0)
                _logger.LogWarning("Outbox full ({Max} messages or {MaxBytes} bytes): discarded the oldest unpublished message ({Total} so far)",
                                   _maxMessages, _maxBytes, n);
        }
        _signal.Release();
        return seq;
    }

    /// <summary>Moves a message the broker will not take to rejected/ (kept for inspection), so the rest can flow.</summary>
    public void SetAside(long sequence, string reason)
    {
        lock (_lock)
        {
            if (!_pending.Remove(sequence, out long size)) return;
            _bytes -= size;
        }
        Interlocked.Increment(ref _setAside);
        string rejected = Path.Combine(_directory, "rejected");
        try
        {
            Directory.CreateDirectory(rejected);
            File.Move(PathOf(sequence), Path.Combine(rejected, Path.GetFileName(PathOf(sequence))), overwrite: true);
            File.WriteAllText(Path.Combine(rejected, sequence.ToString("D16") + ".reason"), reason + "\n");
            var old = Directory.GetFiles(rejected, "*" + Suffix).Order(StringComparer.Ordinal).ToList();
            foreach (var f in old.Take(Math.Max(0, old.Count - KeepRejected)))
            {
                File.Delete(f);
                File.Delete(Path.ChangeExtension(f, ".reason"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Cannot keep rejected outbox entry {Seq} ({Reason}); deleting it", sequence, e.Message);
            TryDelete(sequence);
        }
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
                seq = _pending.Keys.First();
            }
            var message = TryRead(seq);
            if (message is not null) return message;
            Remove(seq); // unreadable (disk trouble): set aside, keep going
        }
    }

    /// <summary>Deletes an acknowledged message.</summary>
    public void Remove(long sequence)
    {
        lock (_lock)
        {
            if (_pending.Remove(sequence, out long size)) _bytes -= size;
        }
        TryDelete(sequence);
    }

    /// <summary>Waits until a message is appended (or the timeout passes).</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancel) => _signal.WaitAsync(timeout, cancel);

    private OutboxMessage? TryRead(long seq)
    {
        string path = PathOf(seq);
        try
        {
            var bytes = RegularFile.Read(path, int.MaxValue - 1);
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
