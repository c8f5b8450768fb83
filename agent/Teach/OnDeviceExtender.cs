using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Training;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// Agent:Teach:OnDevice (off by default): extends a product's signed model with every frame of that product in the
/// teach set, with the same code as `trainer extend`, and serves the derived model at once. A derived model always
/// derives from the slot's own (signed) file, never from an earlier derived model, so teaching cannot pile model on
/// model; it may add at most Agent:Teach:MaxDerivedRows rows (a teach that would add more is not served). The derived
/// model is unsigned: every verdict it gives names the model it was derived from (model.derivedFrom), it lives under
/// {StateDirectory}/derived, and a restart, a signed revert (`trainer collect --revert`), or any model deployed or
/// written to the slot goes back to a signed one. `trainer collect`, `extend` and `deploy` make a taught change
/// permanent and signed.
/// </summary>
public sealed class OnDeviceExtender(IOptions<AgentOptions> options, ModelStore.ModelStore models, TeachSet teachSet, AgentEvents events,
                                     ILogger<OnDeviceExtender> logger)
{
    private readonly Dictionary<string, string> _derived = new(StringComparer.Ordinal); // slot path -> the derived file it serves
    private readonly string _folder = Path.Combine(options.Value.ResolvedStateDirectory, "derived");
    private readonly object _gate = new();

    public bool Enabled => options.Value.Teach.OnDevice;

    /// <summary>Derives and serves a model for each of <paramref name="products"/> from its signed model and its taught frames.</summary>
    public void Extend(IReadOnlyCollection<string> products, CancellationToken cancel)
    {
        foreach (var product in products)
        {
            try
            {
                lock (_gate) ExtendOne(product, cancel);
            }
            catch (Exception e) when (e is UserFacingException or IOException or UnauthorizedAccessException)
            {
                logger.LogError("Teach: the model for {Product} could not be extended on the device: {Reason}", product, e.Message);
                events.Publish("model-derive-failed", $"extending the model for {product} on the device failed: {e.Message}",
                    new() { ["product"] = product });
            }
        }
    }

    /// <summary>Serves the signed model again for <paramref name="product"/> (null: every product) where a derived one is served; says what it
    /// did.</summary>
    public string Revert(string? product)
    {
        lock (_gate)
        {
            var reverted = new List<string>();
            foreach (var slot in options.Value.AllModels)
            {
                string slotPath = Path.GetFullPath(slot.Artifact);
                if (!_derived.TryGetValue(slotPath, out var file)) continue;
                var served = models.AcquireSlot(slotPath);
                string? servedProduct = served?.Product;
                served?.Release();
                if (product is not null && servedProduct != product) continue;
                if (!models.Load(slot)) continue; // refused: logged by the store; the derived model stays until it is fixed
                _derived.Remove(slotPath);
                TryDelete(file);
                reverted.Add(servedProduct ?? slotPath);
                logger.LogWarning("Teach: the derived model of {Product} was reverted by a signed request; serving the signed model again",
                    servedProduct);
                events.Publish("model-derived-reverted", $"serving the signed model for {servedProduct} again",
                    new() { ["product"] = servedProduct });
            }
            return reverted.Count == 0 ? $"no derived model is served{(product is null ? "" : $" for {product}")}: nothing to revert"
                                       : $"serving the signed model again for {string.Join(", ", reverted)}";
        }
    }

    private void ExtendOne(string product, CancellationToken cancel)
    {
        var served = models.Acquire(product, out string? error) ?? throw new IOException(error ?? $"no model for {product}");
        string slotPath = served.Path;
        served.Release();
        var slot = options.Value.AllModels.First(m => Path.GetFullPath(m.Artifact) == slotPath);
        var images = teachSet.Frames().Where(f => f.Product == product).Select(f => Path.Combine(teachSet.Root, f.File)).ToList();

        Directory.CreateDirectory(_folder);
        string add = Path.Combine(_folder, "add-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(add);
        try
        {
            foreach (var image in images) File.Copy(image, Path.Combine(add, Path.GetFileName(image)));
            // Always from the slot's own file: the signed model, whatever was derived before.
            var result = new ModelExtender(logger).Extend(ArtifactFile.Read(slotPath), new ExtendOptions
            {
                AddDirectory = add, Device = options.Value.Device, TempDirectory = _folder,
            }, cancel);
            int budget = options.Value.Teach.MaxDerivedRows;
            if (result.AddedRows > budget)
                throw new IOException($"the {images.Count} taught image(s) would add {result.AddedRows} rows, over Agent:Teach:MaxDerivedRows " +
                    $"({budget}); " +
                                      "the signed model keeps serving: collect, extend and deploy instead");
            string file = Path.Combine(_folder, $"{product}-{DateTime.UtcNow:yyyyMMddHHmmssfff}.pcb");
            string id = ArtifactFile.Write(file, result.Content, null, null);
            var fresh = models.Prepare(file, slot, ModelOrigin.DerivedOnDevice);
            models.Serve(slotPath, fresh, models.ServedStamp(slotPath), recordRelease: false);
            if (_derived.TryGetValue(slotPath, out var old) && old != file) TryDelete(old);
            _derived[slotPath] = file;
            logger.LogWarning("Teach: serving model {Id} derived on the device from {Parent} with {Images} taught image(s) (+{Rows} rows); it is " +
                "unsigned and lasts until a restart, a signed revert or a new model: collect, extend and deploy to keep it",
                              id, result.Content.Manifest.ParentId, result.AddedImages, result.AddedRows);
            events.Publish("model-derived", $"serving model {id} derived on the device from {result.Content.Manifest.ParentId}",
                           new() { ["product"] = product, ["model"] = id, ["parent"] = result.Content.Manifest.ParentId,
                                   ["addedImages"] = result.AddedImages.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                   ["addedRows"] = result.AddedRows.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        finally
        {
            Directory.Delete(add, recursive: true);
        }
    }

    private void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { logger.LogWarning("Cannot delete {File}: {Reason}", file,
            e.Message); }
    }
}
