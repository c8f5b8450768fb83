using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgePatchCore.FileSystem;

namespace EdgePatchCore.Agent.Teach;

/// <summary>One taught frame: where its image is in the teach set, what the model said of it, and who taught it.</summary>
public sealed record TaughtFrame(string FrameId, string File, string? Product, string? ModelId, string Verdict, float? Score, float? Threshold,
                                 DateTimeOffset ScoredAt, string Label, string? By, string? Note, DateTimeOffset TaughtAt, string? FeatureSpec = null);

/// <summary>
/// The frames operators marked good, under {StateDirectory}/teach: the images in good/ (named after the
/// frame id, so marking twice changes nothing) and manifest.json, written atomically.
/// </summary>
public sealed class TeachSet
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _root;
    private readonly List<TaughtFrame> _frames;
    private readonly object _lock = new();

    public TeachSet(string root, int capacity = 1000)
    {
        _root = root;
        Capacity = capacity;
        string manifest = ManifestPath;
        _frames = File.Exists(manifest) ? JsonSerializer.Deserialize<List<TaughtFrame>>(File.ReadAllBytes(manifest), Json) ?? [] : [];
    }

    public string Root => _root;
    /// <summary>Most frames the set holds; beyond it new marks are refused until `trainer collect --clear` empties it.</summary>
    public int Capacity { get; }
    public string GoodFolder => Path.Combine(_root, "good");
    public string ManifestPath => Path.Combine(_root, "manifest.json");
    public int Count { get { lock (_lock) return _frames.Count; } }
    public IReadOnlyList<TaughtFrame> Frames() { lock (_lock) return _frames.ToList(); }

    /// <summary>Adds a frame; false when it is taught already (nothing changes).</summary>
    public bool Add(StoredFrame frame, string label, string? by, string? note, string? featureSpec = null)
    {
        lock (_lock)
        {
            if (_frames.Any(f => f.FrameId == frame.FrameId)) return false;
            if (_frames.Count >= Capacity)
                throw new IOException($"the teach set is full ({Capacity} frames, Agent:Teach:MaxTaught): collect it with trainer collect --clear");
            Directory.CreateDirectory(GoodFolder);
            string file = FileNameFor(frame.FrameId, File.ReadAllBytes(frame.ImagePath), out var bytes);
            DurableFile.Write(Path.Combine(GoodFolder, file), bytes, sync: true);
            var v = frame.Verdict;
            _frames.Add(new TaughtFrame(frame.FrameId, "good/" + file, v.Product, v.Model?.Id, v.Result, v.Score, v.Threshold, v.ScoredAt,
                                        label, by, note, DateTimeOffset.UtcNow, featureSpec));
            DurableFile.Write(ManifestPath, JsonSerializer.SerializeToUtf8Bytes(_frames, Json), sync: true);
            return true;
        }
    }

    /// <summary>Removes the frames whose files are listed (they were collected); returns how many went.</summary>
    public int Remove(IReadOnlyCollection<string> files)
    {
        lock (_lock)
        {
            var gone = _frames.Where(f => files.Contains(f.File)).ToList();
            if (gone.Count == 0) return 0;
            _frames.RemoveAll(gone.Contains);
            DurableFile.Write(ManifestPath, JsonSerializer.SerializeToUtf8Bytes(_frames, Json), sync: true);
            foreach (var f in gone) File.Delete(Path.Combine(_root, f.File));
            return gone.Count;
        }
    }

    /// <summary>A file name from the frame id (readable part + hash, so different ids never collide) with the image's own extension.</summary>
    private static string FileNameFor(string frameId, byte[] image, out byte[] bytes)
    {
        bytes = image;
        string readable = new(Path.GetFileNameWithoutExtension(frameId).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').Take(80).ToArray());
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(frameId)), 0, 4).ToLowerInvariant();
        // The format from the decoder library's own detection (header bytes only); frames were decoded before, so it knows them.
        string extension = "." + (SixLabors.ImageSharp.Image.DetectFormat(image)?.FileExtensions
            .FirstOrDefault(e => Imaging.ImageLoader.HasImageExtension("frame." + e)) ?? "img"); // one that trainer extend reads
        return $"{readable}-{hash}{extension}";
    }
}
