using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Features;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.ModelStore;

/// <summary>
/// The models being served, one per configured artifact file. A new artifact is read, verified and warmed
/// up off to the side and then swapped in under a lock, so frames see either the old or the new model,
/// never a half-loaded one; a bad artifact is refused with an event and the old model keeps serving.
/// </summary>
public sealed class ModelStore(IOptions<AgentOptions> options, AgentEvents events, ILogger<ModelStore> logger) : IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, LoadedModel> _byPath = new(StringComparer.Ordinal);
    private ExecutionDevice? _device;
    private TrustedKeys? _trusted;
    private readonly Dictionary<string, string> _lastRefusal = new(StringComparer.Ordinal);

    /// <summary>Raised after a model was swapped in (for the retained status message).</summary>
    public event Action? Changed;

    /// <summary>Loads (or reloads) the artifact of <paramref name="source"/>; returns false and keeps the old one on failure.</summary>
    public bool Load(ModelOptions source)
    {
        string path = Path.GetFullPath(source.Artifact);
        LoadedModel fresh;
        try
        {
            var artifact = ArtifactFile.Read(path);
            CheckSignature(artifact, path);
            _device ??= new ExecutionDevice(ExecutionDevice.Parse(options.Value.Device));
            var scorer = new PatchCoreScorer(artifact.Content, _device, NearestNeighbourSearch.ParsePrecision(options.Value.BankPrecision));
            try
            {
                scorer.Score(new float[scorer.Features.InputLength], 1); // warm-up: the first real frame is not slow
            }
            catch
            {
                scorer.Dispose();
                throw;
            }
            fresh = new LoadedModel
            {
                Product = artifact.Content.Manifest.Product,
                Id = artifact.Id,
                Path = path,
                CreatedAtUtc = artifact.Content.Manifest.CreatedAtUtc,
                Threshold = (float)(source.Threshold ?? artifact.Content.Scoring.Threshold),
                Input = artifact.Content.Input,
                Scorer = scorer,
                Device = _device.Describe(),
            };
        }
        catch (Exception e) when (e is ArtifactException or IOException or UnauthorizedAccessException or ArgumentException
                                      or InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            string reason = e is FileNotFoundException ? $"{path}: no such file" : e.Message;
            string? serving;
            lock (_lock) serving = _byPath.TryGetValue(path, out var old) ? old.Id : null;
            lock (_lock) _lastRefusal[path] = reason;
            logger.LogError("Refused artifact {Path}: {Reason}{Serving}", path, reason,
                            serving is null ? "" : $"; still serving model {serving}");
            events.Publish("model-refused", $"{reason}", new() { ["artifact"] = path, ["serving"] = serving });
            return false;
        }

        LoadedModel? previous;
        lock (_lock)
        {
            _byPath.TryGetValue(path, out previous);
            _byPath[path] = fresh;
        }
        previous?.Release();
        logger.LogInformation("Serving model {Id} for product {Product} ({Path}, threshold {Threshold:G6}, created {Created:u}) on {Device}{Replaced}",
            fresh.Id, fresh.Product, path, fresh.Threshold, fresh.CreatedAtUtc, fresh.Device,
            previous is null ? "" : $"; replaced {previous.Id}");
        events.Publish("model-loaded", $"serving model {fresh.Id} for {fresh.Product}",
                       new() { ["artifact"] = path, ["model"] = fresh.Id, ["replaced"] = previous?.Id });
        Changed?.Invoke();
        return true;
    }

    /// <summary>Reads and checks an artifact (checksum, consistency, signature rules) without loading it.</summary>
    public Artifact Verify(string path)
    {
        var artifact = ArtifactFile.Read(path);
        CheckSignature(artifact, path);
        return artifact;
    }

    /// <summary>Why the artifact at <paramref name="path"/> was last refused, if it was.</summary>
    public string? LastRefusal(string path)
    {
        lock (_lock) return _lastRefusal.GetValueOrDefault(Path.GetFullPath(path));
    }

    /// <summary>Refuses artifacts whose signature the configuration does not accept.</summary>
    private void CheckSignature(Artifact artifact, string path)
    {
        var o = options.Value;
        _trusted ??= new TrustedKeys(o.TrustedKeys);
        if (artifact.Signature is null && !o.SignatureRequired) return;
        if (artifact.Signature is not null && _trusted.Count == 0 && !o.SignatureRequired) return; // nothing to check against
        if (_trusted.Check(artifact) is { } reason) throw new ArtifactException($"{path}: {reason}");
    }

    /// <summary>
    /// The model for a frame: the one whose product matches, or the only one when the frame names none.
    /// The caller must <see cref="LoadedModel.Release"/> it.
    /// </summary>
    public LoadedModel? Acquire(string? product, out string? error)
    {
        lock (_lock)
        {
            if (_byPath.Count == 0)
            {
                error = "no model loaded";
                return null;
            }
            if (string.IsNullOrEmpty(product))
            {
                if (_byPath.Count == 1)
                {
                    error = null;
                    return _byPath.Values.First().AddReference();
                }
                error = "frame names no product and several models are loaded";
                return null;
            }
            foreach (var m in _byPath.Values)
            {
                if (string.Equals(m.Product, product, StringComparison.OrdinalIgnoreCase))
                {
                    error = null;
                    return m.AddReference();
                }
            }
            error = $"no model loaded for product '{product}'";
            return null;
        }
    }

    /// <summary>What is being served now, for status and metrics messages.</summary>
    public IReadOnlyList<ModelSummary> Snapshot()
    {
        lock (_lock)
            return _byPath.Values.Select(m => new ModelSummary(m.Id, m.Product, m.CreatedAtUtc, m.Threshold, m.Device, m.Path)).ToList();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var m in _byPath.Values) m.Release();
            _byPath.Clear();
        }
    }
}

public sealed record ModelSummary(string Id, string Product, DateTime CreatedAt, float Threshold, string Device, string Path);
