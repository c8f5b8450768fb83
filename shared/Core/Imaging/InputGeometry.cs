namespace EdgePatchCore.Imaging;

/// <summary>
/// Maps rectangles from the network input (where the anomaly map lives) back to the original frame,
/// inverting the resize of <see cref="ImageLoader.Resize{TPixel}"/> for each <see cref="ResizeMode"/>.
/// </summary>
public static class InputGeometry
{
    /// <summary>
    /// The bounding box of the map pixels at or above <paramref name="threshold"/>, in frame pixels;
    /// null when no pixel reaches it.
    /// </summary>
    public static PixelRegion? RegionAbove(ReadOnlySpan<float> map, int mapWidth, int mapHeight, float threshold,
                                           InputSpec spec, int frameWidth, int frameHeight)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        for (int y = 0; y < mapHeight; y++)
        {
            var row = map.Slice(y * mapWidth, mapWidth);
            for (int x = 0; x < mapWidth; x++)
            {
                if (!(row[x] >= threshold)) continue;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
        if (x1 < 0) return null;
        return ToFrame(new PixelRegion(x0, y0, x1 - x0 + 1, y1 - y0 + 1), spec, frameWidth, frameHeight);
    }

    /// <summary>Maps an input-space rectangle to the frame, clipped to the frame.</summary>
    public static PixelRegion ToFrame(PixelRegion r, InputSpec spec, int frameWidth, int frameHeight)
    {
        double sx, sy, ox = 0, oy = 0; // frame = (input + offset) * scale
        switch (spec.Mode)
        {
            case ResizeMode.CenterCrop:
            {
                double scale = (double)spec.ResizeTo / Math.Min(frameWidth, frameHeight);
                int w = Math.Max(spec.Width, (int)Math.Round(frameWidth * scale));
                int h = Math.Max(spec.Height, (int)Math.Round(frameHeight * scale));
                sx = (double)frameWidth / w; sy = (double)frameHeight / h;
                ox = (w - spec.Width) / 2; oy = (h - spec.Height) / 2;
                break;
            }
            case ResizeMode.Letterbox:
            {
                double scale = Math.Min((double)spec.Width / frameWidth, (double)spec.Height / frameHeight);
                int w = Math.Max(1, (int)Math.Round(frameWidth * scale));
                int h = Math.Max(1, (int)Math.Round(frameHeight * scale));
                sx = (double)frameWidth / w; sy = (double)frameHeight / h;
                ox = -(spec.Width - w) / 2; oy = -(spec.Height - h) / 2;
                break;
            }
            default:
                sx = (double)frameWidth / spec.Width; sy = (double)frameHeight / spec.Height;
                break;
        }
        int left = Math.Clamp((int)Math.Floor((r.X + ox) * sx), 0, frameWidth);
        int top = Math.Clamp((int)Math.Floor((r.Y + oy) * sy), 0, frameHeight);
        int right = Math.Clamp((int)Math.Ceiling((r.X + r.Width + ox) * sx), left, frameWidth);
        int bottom = Math.Clamp((int)Math.Ceiling((r.Y + r.Height + oy) * sy), top, frameHeight);
        return new PixelRegion(left, top, right - left, bottom - top);
    }
}
