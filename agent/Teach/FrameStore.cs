using System.Text.Json;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// The last frames the agent scored, on disk under {StateDirectory}/frames, so that an operator can teach
/// one as good afterwards (docs/TEACH.md). Bounded by count and by bytes, oldest out first; keyed by frame id,
/// first come: a later frame with an id already kept is not kept, and the kept one is marked ambiguous (a
/// N.dup file beside it), because a mark naming that id could mean either frame: teaching it is refused. With a separate bound for defect and error
/// frames they are kept
/// apart, so a long run of good parts does not push out the rejects an operator may want to teach. Each frame is
/// two files, N.img and N.json (its verdict); the index is rebuilt from them at start. A cache: a frame that cannot be stored is logged and skipped,
/// never
/// holding up scoring.
/// </summary>
public sealed class FrameStore
{
    private readonly string _directory;
    private readonly int _maxFrames, _maxRejects;
    private readonly long _maxBytes;
    private readonly ILogger _logger;
    private readonly LinkedList<StoredFrame> _frames = new(), _rejects = new();
    private readonly Dictionary<string, LinkedListNode<StoredFrame>> _byId = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ambiguous = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private long _bytes, _next;

    /// <param name="maxRejects">defect and error frames kept apart from the others (0: they count among <paramref name="maxFrames"/>)</param>
    public FrameStore(string directory, int maxFrames, long maxBytes, ILogger logger, int maxRejects = 0)
    {
        _directory = directory;
        _maxFrames = maxFrames;
        _maxRejects = maxRejects;
        _maxBytes = maxBytes;
        _logger = logger;
        if (maxFrames > 0) Load();
    }

    public bool Enabled => _maxFrames > 0;
    public int Count { get { lock (_lock) return _frames.Count + _rejects.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <summary>Keeps a frame, first come: a later frame with a kept id is not kept.</summary>
    public KeepResult Add(string frameId, byte[] image, Verdict verdict)
    {
        if (!Enabled) return KeepResult.Off;
        try
        {
            Directory.CreateDirectory(_directory);
            long number;
            lock (_lock)
            {
                if (_byId.TryGetValue(frameId, out var first))
                {
                    if (_ambiguous.Add(frameId)) File.WriteAllBytes(Path.ChangeExtension(first.Value.ImagePath, ".dup"), []);
                    return KeepResult.RepeatedId;
                }
                number = ++_next;
            }
            string imagePath = Path.Combine(_directory, $"{number:D12}.img");
            File.WriteAllBytes(imagePath, image);
            File.WriteAllBytes(Path.Combine(_directory, $"{number:D12}.json"), verdict.ToJson());
            lock (_lock)
            {
                Index(new StoredFrame(number, frameId, imagePath, image.LongLength, verdict));
                Trim();
            }
            return KeepResult.Kept;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Frame {Frame} not kept for teaching ({Reason})", frameId, e.Message);
            return KeepResult.NotWritten;
        }
    }

    /// <summary>Whether more than one frame came with <paramref name="frameId"/> while it was kept (a mark cannot tell which was meant).</summary>
    public bool IsAmbiguous(string frameId)
    {
        lock (_lock) return _ambiguous.Contains(frameId);
    }

    public StoredFrame? Find(string frameId)
    {
        lock (_lock) return _byId.TryGetValue(frameId, out var node) ? node.Value : null;
    }

    private LinkedList<StoredFrame> ListFor(Verdict v) => _maxRejects > 0 && (v.Result != Verdict.Ok || v.Review == true) ? _rejects : _frames;

    private void Index(StoredFrame frame)
    {
        if (_byId.ContainsKey(frame.FrameId)) return; // first come (files of an older layout)
        _byId[frame.FrameId] = ListFor(frame.Verdict).AddLast(frame);
        _bytes += frame.Bytes;
    }

    /// <summary>Each list within its count; all within the bytes, ordinary frames going before rejects; the newest frame always stays.</summary>
    private void Trim()
    {
        while (_frames.Count > _maxFrames) Remove(_frames.First!);
        while (_rejects.Count > _maxRejects) Remove(_rejects.First!);
        while (_bytes > _maxBytes && Count > 1) Remove(_frames.Count > 0 && (_frames.Count > 1
            || _rejects.Count == 0) ? _frames.First! : _rejects.First!);
    }

    private void Remove(LinkedListNode<StoredFrame> node)
    {
        var f = node.Value;
        node.List!.Remove(node);
        if (_byId.TryGetValue(f.FrameId, out var current) && current == node)
        {
            _byId.Remove(f.FrameId);
            _ambiguous.Remove(f.FrameId);
        }
        _bytes -= f.Bytes;
        try
        {
            File.Delete(f.ImagePath);
            File.Delete(Path.ChangeExtension(f.ImagePath, ".json"));
            File.Delete(Path.ChangeExtension(f.ImagePath, ".dup"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _logger.LogWarning("Cannot delete kept frame {Path}: {Reason}",
            f.ImagePath, e.Message); }
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
                if (File.Exists(Path.ChangeExtension(json, ".dup"))) _ambiguous.Add(verdict.FrameId);
                _next = Math.Max(_next, number);
            }
            catch (Exception e) when (e is IOException or JsonException or FormatException or OverflowException)
            {
                try { File.Delete(json); File.Delete(image); } catch (IOException) { }
            }
        }
        Trim();
    }
}
