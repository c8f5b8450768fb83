namespace EdgePatchCore.Evaluation;

/// <summary>8-connected component labelling of a binary mask (as scipy.ndimage.label with a 3x3 structure).</summary>
public static class ConnectedComponents
{
    /// <summary>Writes region numbers (firstLabel, firstLabel+1, ...) or -1 into <paramref name="labels"/>; returns each region's size.</summary>
    public static List<int> Label(ReadOnlySpan<byte> mask, int width, int height, Span<int> labels, int firstLabel = 0)
    {
        labels.Fill(-1);
        var sizes = new List<int>();
        var stack = new Stack<int>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (mask[start] == 0 || labels[start] >= 0) continue;
            int label = firstLabel + sizes.Count, size = 0;
            labels[start] = label;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                size++;
                int px = p % width, py = p / width;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx, y = py + dy;
                        if ((uint)x >= (uint)width || (uint)y >= (uint)height) continue;
                        int q = y * width + x;
                        if (mask[q] != 0 && labels[q] < 0) { labels[q] = label; stack.Push(q); }
                    }
            }
            sizes.Add(size);
        }
        return sizes;
    }
}
