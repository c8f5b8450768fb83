using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Training;
using Microsoft.Extensions.Options;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// Agent:Teach:OnDevice (off by default): extends the served model with the frames just taught, with the same
/// code as `trainer extend`, and serves the derived model at once. The derived model is unsigned: every verdict
/// it gives names the model it was derived from (model.derivedFrom), it lives under {StateDirectory}/derived,
/// and a restart, or any model deployed or written to the slot, goes back to a signed one. `trainer collect`,
/// `extend` and `deploy` make a taught change permanent and signed.
/// </summary>
public sealed class OnDeviceExtender(IOptions<AgentOptions> options, ModelStore.ModelStore models, AgentEvents events, ILogger<OnDeviceExtender> logger)
{
    private readonly Dictionary<string, (string File, string Id)> _derived = new(StringComparer.Ordinal); // slot path -> the derived model it serves
    private readonly string _folder = Path.Combine(options.Value.ResolvedStateDirectory, "derived");

    public bool Enabled => options.Value.Teach.OnDevice;

    /// <summary>Extends each product's served model with its taught images (paths of image files) and serves the result.</summary>
    public void Extend(IReadOnlyList<(string Product, string Image)> taught, CancellationToken cancel)
    {
        foreach (var group in taught.GroupBy(t => t.Product))
        {
            try { ExtendOne(group.Key, group.Select(t => t.Image).ToList(), cancel); }
            catch (Exception e) when (e is UserFacingException or IOException or UnauthorizedAccessException)
            {
                logger.LogError("Teach: the model for {Product} could not be extended on the device: {Reason}", group.Key, e.Message);
                events.Publish("model-derive-failed", $"extending the model for {group.Key} on the device failed: {e.Message}", new() { ["product"] = group.Key });
            }
        }
    }

    private void ExtendOne(string product, List<string> images, CancellationToken cancel)
    {
        var served = models.Acquire(product, out string? error) ?? throw new IOException(error ?? $"no model for {product}");
        string slotPath = served.Path, servedId = served.Id;
        served.Release();
        var slot = options.Value.AllModels.First(m => Path.GetFullPath(m.Artifact) == slotPath);
        // Extend what is served: the derived model while it is still the one served, else the slot's own file.
        string parentFile = _derived.TryGetValue(slotPath, out var previous) && previous.Id == servedId ? previous.File : slotPath;

        Directory.CreateDirectory(_folder);
        string add = Path.Combine(_folder, "add-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(add);
        try
        {
            foreach (var image in images) File.Copy(image, Path.Combine(add, Path.GetFileName(image)));
            var result = new ModelExtender(logger).Extend(ArtifactFile.Read(parentFile), new ExtendOptions
            {
                AddDirectory = add, Device = options.Value.Device, TempDirectory = _folder,
            }, cancel);
            string file = Path.Combine(_folder, $"{product}-{DateTime.UtcNow:yyyyMMddHHmmssfff}.pcb");
            string id = ArtifactFile.Write(file, result.Content, null, null);
            var fresh = models.Prepare(file, slot, ModelOrigin.DerivedOnDevice);
            models.Serve(slotPath, fresh, models.ServedStamp(slotPath), recordRelease: false);
            if (previous.File is { } old && old != file) File.Delete(old);
            _derived[slotPath] = (file, id);
            logger.LogWarning("Teach: serving model {Id} derived on the device from {Parent} with {Images} taught image(s) (+{Rows} rows); it is unsigned " +
                              "and lasts until a restart or a new model: collect, extend and deploy to keep it", id, result.Content.Manifest.ParentId, result.AddedImages, result.AddedRows);
            events.Publish("model-derived", $"serving model {id} derived on the device from {result.Content.Manifest.ParentId}",
                           new() { ["product"] = product, ["model"] = id, ["parent"] = result.Content.Manifest.ParentId, ["addedImages"] = result.AddedImages.ToString() });
        }
        finally
        {
            Directory.Delete(add, recursive: true);
        }
    }
}
