using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgePatchCore.FileSystem;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// The frames operators marked good, under {StateDirectory}/teach: the images in good/ (named after the frame id,
/// so marking twice changes nothing) and manifest.jsonl, one taught frame per line. A mark appends its line (the
/// manifest is never rewritten for a mark: a 1,000-frame request writes 1,000 short lines, flushed to disk once, by
/// <see cref="Commit"/>); collecting rewrites it atomically without the collected frames. Bounded by count
/// (<see cref="Capacity"/>) and by the images' bytes (<see cref="MaxBytes"/>).
/// </summary>
public sealed class TeachSet
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _root;
    private readonly List<TaughtFrame> _frames;
    private readonly object _lock = new();
    private long _bytes;
    private FileStream? _manifest; // open for appending while marks come in; flushed by Commit

    public TeachSet(string root, int capacity = 1000, long maxBytes = 1L << 30)
    {
        _root = root;
        Capacity = capacity;
        MaxBytes = maxBytes;
        _frames = Load();
        _bytes = _frames.Sum(f => f.Bytes);
    }

    public string Root => _root;
    /// <summary>Most frames the set holds; beyond it new marks are refused until `trainer collect --clear` empties it.</summary>
    public int Capacity { get; }
    /// <summary>Most bytes of images the set holds, likewise.</summary>
    public long MaxBytes { get; }
    public string GoodFolder => Path.Combine(_root, "good");
    public string ManifestPath => Path.Combine(_root, "manifest.jsonl");
    public int Count { get { lock (_lock) return _frames.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }
    public IReadOnlyList<TaughtFrame> Frames() { lock (_lock) return _frames.ToList(); }

    /// <summary>Adds a frame (its image durably, its manifest line appended); false when it is taught already (nothing changes). Call <see
    /// cref="Commit"/> after a request's marks.</summary>
    /// <exception cref="IOException">The set is full (count or bytes), or the disk refused.</exception>
    public bool Add(StoredFrame frame, string label, string? by, string? note, string? featureSpec = null, string? @operator = null)
    {
        lock (_lock)
        {
            if (_frames.Any(f => f.FrameId == frame.FrameId)) return false;
            if (_frames.Count >= Capacity)
                throw new IOException($"the teach set is full ({Capacity} frames, Agent:Teach:MaxTaught): collect it with trainer collect --clear");
            if (_bytes + frame.Bytes > MaxBytes)
                throw new IOException($"the teach set is full ({_bytes >> 20} MiB of {MaxBytes >> 20} MiB, Agent:Teach:MaxTaughtBytes): collect it " +
                    $"with trainer collect --clear");
            Directory.CreateDirectory(GoodFolder);
            byte[] image = File.ReadAllBytes(frame.ImagePath);
            string file = FileNameFor(frame.FrameId, image);
            DurableFile.Write(Path.Combine(GoodFolder, file), image, sync: true);
            var v = frame.Verdict;
            var taught = new TaughtFrame(frame.FrameId, "good/" + file, v.Product, v.Model?.Id, v.Result, v.Score, v.Threshold, v.ScoredAt,
                                         label, by, note, DateTimeOffset.UtcNow, featureSpec, image.LongLength, @operator);
            _manifest ??= new FileStream(ManifestPath, FileMode.Append, FileAccess.Write, FileShare.Read);
            _manifest.Write(JsonSerializer.SerializeToUtf8Bytes(taught, Json));
            _manifest.WriteByte((byte)'\n');
            _frames.Add(taught);
            _bytes += taught.Bytes;
            return true;
        }
    }

    /// <summary>Flushes the manifest lines appended since the last call to the disk, once per request.</summary>
    public void Commit()
    {
        lock (_lock)
        {
            if (_manifest is null) return;
            _manifest.Flush(flushToDisk: true);
            _manifest.Dispose();
            _manifest = null;
        }
    }

    /// <summary>Removes the frames whose files are listed (they were collected); returns how many went.</summary>
    public int Remove(IReadOnlyCollection<string> files)
    {
        lock (_lock)
        {
            var gone = _frames.Where(f => files.Contains(f.File)).ToList();
            if (gone.Count == 0) return 0;
            _manifest?.Dispose();
            _manifest = null;
            _frames.RemoveAll(gone.Contains);
            _bytes = _frames.Sum(f => f.Bytes);
            Rewrite(_frames);
            foreach (var f in gone) File.Delete(Path.Combine(_root, f.File));
            return gone.Count;
        }
    }

    private void Rewrite(IEnumerable<TaughtFrame> frames)
    {
        Directory.CreateDirectory(_root);
        var text = new MemoryStream();
        foreach (var f in frames)
        {
            text.Write(JsonSerializer.SerializeToUtf8Bytes(f, Json));
            text.WriteByte((byte)'\n');
        }
        DurableFile.Write(ManifestPath, text.ToArray(), sync: true);
    }

    /// <summary>The manifest's lines; a torn last line (a power cut mid-append) is dropped. A manifest.json of an older layout is taken
    /// over.</summary>
    private List<TaughtFrame> Load()
    {
        string legacy = Path.Combine(_root, "manifest.json");
        if (!File.Exists(ManifestPath) && File.Exists(legacy))
        {
            var old = JsonSerializer.Deserialize<List<TaughtFrame>>(File.ReadAllBytes(legacy), Json) ?? [];
            var sized = old.Select(f => f with { Bytes = File.Exists(Path.Combine(_root, f.File)) ? new FileInfo(Path.Combine(_root,
                f.File)).Length : 0 }).ToList();
            Rewrite(sized);
            File.Delete(legacy);
            return sized;
        }
        if (!File.Exists(ManifestPath)) return [];
        var frames = new List<TaughtFrame>();
        foreach (var line in File.ReadLines(ManifestPath))
        {
            if (line.Length == 0) continue;
            try { if (JsonSerializer.Deserialize<TaughtFrame>(line, Json) is { } f) frames.Add(f); }
            catch (JsonException) { } // a torn line: its image is re-taught by marking it again
        }
        return frames;
    }

    /// <summary>A file name from the frame id (readable part + hash, so different ids never collide) with the image's own extension.</summary>
    private static string FileNameFor(string frameId, byte[] image)
    {
        string readable = new(Path.GetFileNameWithoutExtension(frameId).Select(c => char.IsAsciiLetterOrDigit(c)
            || c is '-' or '_' or '.' ? c : '_').Take(80).ToArray());
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(frameId)), 0, 4).ToLowerInvariant();
        // The format from the decoder library's own detection (header bytes only); frames were decoded before, so it knows them.
        string extension = "." + (SixLabors.ImageSharp.Image.DetectFormat(image)?.FileExtensions
            .FirstOrDefault(e => Imaging.ImageLoader.HasImageExtension("frame." + e)) ?? "img"); // one that trainer extend reads
        return $"{readable}-{hash}{extension}";
    }
}
