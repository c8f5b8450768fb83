using System.Buffers;
using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The first stage of scoring: acquires each frame's model and decodes the frames of a batch in parallel, a whole-frame model's
/// straight into its network inputs, a tiled model's to the picture its tiles are cut from. It runs while the
/// <see cref="ScoringWorker"/> scores the batch before (the decode of the next frames overlaps the current ones' inference).
/// Every frame fails alone: one that cannot be decoded or prepared gets its reason and no picture.
/// </summary>
internal sealed class BatchDecoder(FrameLimitsOptions limits, ModelStore.ModelStore models, bool keepImages)
{
    private readonly ImageLoader _loader = new(limits.ToImageLimits());

    public DecodedBatch Decode(BatchItem[] items, long heldBytes)
    {
        var groups = new List<DecodedBatch.ModelGroup>();
        try
        {
            foreach (var item in items)
            {
                if (item.Frame.RejectReason is { } reason) item.Error = reason;
                else item.Model = models.Acquire(item.Frame.Product, out item.Error);
            }
            foreach (var group in items.Where(i => i.Model is not null).GroupBy(i => i.Model!))
            {
                var model = group.Key;
                BatchItem[] members = [.. group];
                if (model.Scorer.Tiling is not null)
                {
                    groups.Add(new DecodedBatch.ModelGroup(model, members, null));
                    Parallel.For(0, members.Length, i => Decode(members[i], keep: true));
                    continue;
                }
                int length = model.Scorer.Features.InputLength;
                var inputs = ArrayPool<float>.Shared.Rent(members.Length * length);
                groups.Add(new DecodedBatch.ModelGroup(model, members, inputs));
                // A camera's frame keeps its picture until the sinks are through: it is the frame's only copy (no encoded bytes).
                Parallel.For(0, members.Length, i => Decode(members[i], keepImages || members[i].Frame.Pixels is not null,
                    image => ImageLoader.ToInput(image, model.Input, inputs.AsSpan(i * length, length), members[i].Frame.Id)));
            }
        }
        catch
        {
            new DecodedBatch(items, groups, heldBytes).Dispose(); // the models acquired so far, the pictures decoded so far
            throw;
        }
        return new DecodedBatch(items, groups, heldBytes);
    }

    /// <summary>Decodes a frame, then <paramref name="prepare"/>s it (the network input); any failure fails this frame only.</summary>
    private void Decode(BatchItem item, bool keep, Action<Image<Rgb24>>? prepare = null)
    {
        long start = Stopwatch.GetTimestamp();
        Image<Rgb24>? image = null;
        try
        {
            image = item.Frame.Pixels ?? _loader.Decode(item.Frame.Bytes, item.Frame.Id); // a camera's frame comes as RGB already
            (item.FrameWidth, item.FrameHeight) = (image.Width, image.Height);
            prepare?.Invoke(image);
            if (keep) (item.Image, image) = (image, null);
        }
        catch (ImageLoadException e) { item.Error = e.Message; }
        catch (Exception e) // a resize or conversion failure (out of memory included) fails this frame only
        {
            item.Error = $"{item.Frame.Id}: cannot prepare the image ({e.GetType().Name}: {e.Message})";
        }
        finally { image?.Dispose(); }
        item.DecodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}
