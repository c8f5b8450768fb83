using System.Text.Json;
using EdgePatchCore.Agent.Publishing;

namespace EdgePatchCore.Agent.Teach;

/// <summary>A kept frame: its image file and the verdict it got.</summary>
public sealed record StoredFrame(long Number, string FrameId, string ImagePath, long Bytes, Verdict Verdict);

/// <summary>
/// The last frames the agent scored, on disk under {StateDirectory}/frames, so that an operator can teach
/// one as good afterwards (docs/TEACH.md). Bounded by count and by bytes, oldest out first; keyed by frame id
/// (a repeated id refers to its latest frame). Each frame is two files, N.img and N.json (its verdict); the
/// index is rebuilt from them at start. A cache: a frame that cannot be stored is logged and skipped, never
/// holding up scoring.
/// </summary>
public sealed class FrameStore
{
    private readonly string _directory;
    private readonly int _maxFrames;
    private readonly long _maxBytes;
    private readonly ILogger _logger;
    private readonly LinkedList<StoredFrame> _frames = new();
    private readonly Dictionary<string, LinkedListNode<StoredFrame>> _byId = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private long _bytes, _next;

    public FrameStore(string directory, int maxFrames, long maxBytes, ILogger logger)
    {
        _directory = directory;
        _maxFrames = maxFrames;
        _maxBytes = maxBytes;
        _logger = logger;
        if (maxFrames > 0) Load();
    }

    public bool Enabled => _maxFrames > 0;
    public int Count { get { lock (_lock) return _frames.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }

    public void Add(string frameId, byte[] image, Verdict verdict)
    {
        if (!Enabled) return;
        try
        {
            Directory.CreateDirectory(_directory);
            long number;
            lock (_lock) number = ++_next;
            string imagePath = Path.Combine(_directory, $"{number:D12}.img");
            File.WriteAllBytes(imagePath, image);
            File.WriteAllBytes(Path.Combine(_directory, $"{number:D12}.json"), verdict.ToJson());
            lock (_lock)
            {
                Index(new StoredFrame(number, frameId, imagePath, image.LongLength, verdict));
                while (_frames.Count > _maxFrames || (_bytes > _maxBytes && _frames.Count > 1)) RemoveOldest();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Frame {Frame} not kept for teaching ({Reason})", frameId, e.Message);
        }
    }

    public StoredFrame? Find(string frameId)
    {
        lock (_lock) return _byId.TryGetValue(frameId, out var node) ? node.Value : null;
    }

    private void Index(StoredFrame frame)
    {
        if (_byId.TryGetValue(frame.FrameId, out var previous)) Remove(previous); // the id now names the newer frame
        _byId[frame.FrameId] = _frames.AddLast(frame);
        _bytes += frame.Bytes;
    }

    private void RemoveOldest() => Remove(_frames.First!);

    private void Remove(LinkedListNode<StoredFrame> node)
    {
        var f = node.Value;
        _frames.Remove(node);
        if (_byId.TryGetValue(f.FrameId, out var current) && current == node) _byId.Remove(f.FrameId);
        _bytes -= f.Bytes;
        try
        {
            File.Delete(f.ImagePath);
            File.Delete(Path.ChangeExtension(f.ImagePath, ".json"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _logger.LogWarning("Cannot delete kept frame {Path}: {Reason}", f.ImagePath, e.Message); }
    }

    /// <summary>Rebuilds the index from the files (in number order); a pair that cannot be read is deleted.</summary>
    private void Load()
    {
        if (!Directory.Exists(_directory)) return;
        foreach (var json in Directory.EnumerateFiles(_directory, "*.json").Order(StringComparer.Ordinal))
        {
            string image = Path.ChangeExtension(json, ".img");
            try
            {
                var verdict = Verdict.FromJson(File.ReadAllBytes(json)) ?? throw new JsonException("empty");
                long number = long.Parse(Path.GetFileNameWithoutExtension(json), System.Globalization.CultureInfo.InvariantCulture);
                Index(new StoredFrame(number, verdict.FrameId, image, new FileInfo(image).Length, verdict));
                _next = Math.Max(_next, number);
            }
            catch (Exception e) when (e is IOException or JsonException or FormatException or OverflowException)
            {
                try { File.Delete(json); File.Delete(image); } catch (IOException) { }
            }
        }
        while (_frames.Count > _maxFrames || (_bytes > _maxBytes && _frames.Count > 1)) RemoveOldest();
    }
}
