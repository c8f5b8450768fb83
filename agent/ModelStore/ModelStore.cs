using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.ModelStore;

/// <summary>
/// The models being served, one per configured artifact file (a slot). A new artifact is read, admitted
/// (<see cref="ModelAdmission"/>), built and warmed up off to the side (<see cref="Prepare"/>) and only then
/// swapped in under a lock (<see cref="Serve"/>), so frames see either the old or the new model, never a
/// half-loaded one. Any failure on the way, whatever threw it, is a refusal with a reason: an event, a log
/// line, and the old model keeps serving.
/// </summary>
public sealed class ModelStore(IOptions<AgentOptions> options, ModelAdmission admission, AgentEvents events,
    ILogger<ModelStore> logger) : IServedModels, IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, (LoadedModel Model, FileStamp? Stamp)> _byPath = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastRefusal = new(StringComparer.Ordinal);
    private readonly object _changeGate = new();
    private ExecutionDevice? _device;

    private readonly TaskCompletionSource _initialLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every configured artifact has been tried once (<see cref="ArtifactWatcher"/> says so).</summary>
    public Task InitialLoad => _initialLoad.Task;
    public void InitialLoadDone() => _initialLoad.TrySetResult();

    /// <summary>Raised after a model was swapped in (for the retained status message).</summary>
    public event Action? Changed;

    /// <summary>Loads (or reloads) the artifact of <paramref name="slot"/> from its file; returns false and keeps the old one on failure.</summary>
    public bool Load(ModelOptions slot) => Exclusive(() =>
    {
        string path = Path.GetFullPath(slot.Artifact);
        var stamp = FileStamp.Of(path);
        try
        {
            Serve(path, Prepare(path, slot, ModelOrigin.File), stamp);
            return true;
        }
        catch (ModelRefusedException e)
        {
            Refuse(path, e.Message);
            return false;
        }
    });

    /// <summary>Runs one change of what is served (a reload, a deploy's install, a rollback) at a time.</summary>
    public T Exclusive<T>(Func<T> change)
    {
        lock (_changeGate) return change();
    }

    /// <summary>
    /// Reads <paramref name="file"/>, admits it for <paramref name="slot"/>, builds its scorer and scores a
    /// warm-up frame, without serving it. Throws <see cref="ModelRefusedException"/> with the reason; a
    /// caller-supplied <paramref name="check"/> can refuse it too (e.g. a deploy's product).
    /// </summary>
    public LoadedModel Prepare(string file, ModelOptions slot, ModelOrigin origin, Func<Artifact, string?>? check = null)
    {
        PatchCoreScorer? scorer = null;
        try
        {
            var artifact = ArtifactFile.Read(file);
            if (check?.Invoke(artifact) is { } refused) throw new ModelRefusedException(refused);
            if (admission.Check(artifact, slot.Product, origin, out var verified) is { } reason) throw new ModelRefusedException(reason);
            var o = options.Value;
            _device ??= new ExecutionDevice(o.Device);
            scorer = new PatchCoreScorer(artifact.Content, _device, o.BankPrecision, o.Search, o.BackbonePrecision);
            var warmUp = scorer.Score(new float[scorer.Features.InputLength], 1); // the first real frame is not slow
            if (!float.IsFinite(warmUp[0].Score)) throw new ModelRefusedException("the model scores a blank frame as not a number");
            float threshold = (float)(slot.Threshold ?? artifact.Content.Scoring.Threshold);
            var model = new LoadedModel
            {
                Product = artifact.Content.Manifest.Product,
                Id = artifact.Id,
                Path = Path.GetFullPath(slot.Artifact),
                CreatedAtUtc = artifact.Content.Manifest.CreatedAtUtc,
                Threshold = threshold,
                ReviewThreshold = Calibration.ReviewBand.Threshold(artifact.Content.Calibration, threshold, o.ReviewRate),
                Input = artifact.Content.Input,
                Scorer = scorer,
                // Short: it travels in every status message (the log line below gives the reasons).
                Device = $"{_device.Describe()}, {BankPrecisions.Name(scorer.Precision)} bank, " +
                    $"{EdgePatchCore.Embedding.BackbonePrecisions.Name(scorer.BackbonePrecision)} backbone",
                SignedRelease = verified,
                SignedBy = verified is null ? null : artifact.Signature?.KeyId,
                PayloadHash = artifact.Hash,
                ParentId = artifact.Content.Manifest.ParentId,
                FeatureSpec = artifact.Content.FeatureSpec(),
                DerivedOnDeviceFrom = origin == ModelOrigin.DerivedOnDevice ? artifact.Content.Manifest.ParentId : null,
            };
            scorer = null;
            return model;
        }
        catch (ModelRefusedException) { throw; }
        catch (Exception e) // reading, verifying, building or warming up: whatever fails, the model is refused, never the agent
        {
            throw new ModelRefusedException(e switch
            {
                ArtifactException => e.Message,
                FileNotFoundException => $"{file}: no such file",
                _ => $"the model could not be built and warmed up: {e.Message}",
            }, e);
        }
        finally
        {
            scorer?.Dispose();
        }
    }

    /// <summary>Swaps a prepared model in for the slot at <paramref name="path"/>; <paramref name="stamp"/> is its file as served.</summary>
    public void Serve(string path, LoadedModel fresh, FileStamp? stamp, bool recordRelease = true)
    {
        path = Path.GetFullPath(path);
        if (recordRelease && fresh.SignedRelease is { } release) admission.Ledger.Accept(release.Product, release.Version, fresh.PayloadHash);
        LoadedModel? previous;
        lock (_lock)
        {
            previous = _byPath.TryGetValue(path, out var old) ? old.Model : null;
            _byPath[path] = (fresh, stamp);
            _lastRefusal.Remove(path);
        }
        previous?.Release();
        logger.LogInformation("Serving model {Id} for product {Product} ({Path}, threshold {Threshold:G6}, created {Created:u}{Release}) on " +
            "{Device}: {Precision}, {Search}{Replaced}",
            fresh.Id, fresh.Product, path, fresh.Threshold, fresh.CreatedAtUtc, fresh.SignedRelease is { } r ? $", release {r.Version}" : "",
            fresh.Device, fresh.Scorer.PrecisionDescription, fresh.Scorer.SearchDescription, previous is null ? "" : $"; replaced {previous.Id}");
        if (fresh.SignedRelease is { } expiring && expiring.IsExpired(DateTime.UtcNow))
            logger.LogWarning("Model {Id} (release {Version}) expired on {Expiry:u}: it keeps serving, but deploy a freshly signed model", fresh.Id,
                expiring.Version, expiring.ExpiresAtUtc);
        events.Publish("model-loaded", $"serving model {fresh.Id} for {fresh.Product}",
                       new() { ["artifact"] = path, ["model"] = fresh.Id, ["replaced"] = previous?.Id,
                           ["release"] = fresh.SignedRelease?.Version.ToString() });
        Changed?.Invoke();
    }

    /// <summary>Reports a refused model (log, event, <see cref="LastRefusal"/>); what the slot serves does not change.</summary>
    public void Refuse(string path, string reason)
    {
        path = Path.GetFullPath(path);
        string? serving;
        lock (_lock)
        {
            serving = _byPath.TryGetValue(path, out var old) ? old.Model.Id : null;
            _lastRefusal[path] = reason;
        }
        logger.LogError("Refused artifact {Path}: {Reason}{Serving}", path, reason, serving is null ? "" : $"; still serving model {serving}");
        events.Publish("model-refused", reason, new() { ["artifact"] = path, ["serving"] = serving });
    }

    /// <summary>The file stamp of what the slot at <paramref name="path"/> serves (the watcher does not reload it).</summary>
    public FileStamp? ServedStamp(string path)
    {
        lock (_lock) return _byPath.TryGetValue(Path.GetFullPath(path), out var m) ? m.Stamp : null;
    }

    /// <summary>Why the artifact at <paramref name="path"/> was last refused, if it was.</summary>
    public string? LastRefusal(string path)
    {
        lock (_lock) return _lastRefusal.GetValueOrDefault(Path.GetFullPath(path));
    }

    /// <summary>The served model of the slot at <paramref name="path"/>, with a reference the caller must release.</summary>
    public LoadedModel? AcquireSlot(string path)
    {
        lock (_lock) return _byPath.TryGetValue(Path.GetFullPath(path), out var m) ? m.Model.AddReference() : null;
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
                    return _byPath.Values.First().Model.AddReference();
                }
                error = "frame names no product and several models are loaded";
                return null;
            }
            foreach (var (m, _) in _byPath.Values)
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
            return _byPath.Values.Select(e => e.Model)
                .Select(m => new ModelSummary(m.Id, m.Product, m.CreatedAtUtc, m.Threshold, m.Device, m.Path, m.SignedRelease?.Version, m.SignedBy,
                    m.ParentId, m.FeatureSpec)).ToList();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (m, _) in _byPath.Values) m.Release();
            _byPath.Clear();
        }
    }
}
