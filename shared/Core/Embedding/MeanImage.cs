using EdgePatchCore.Imaging;
using Onnx;

namespace EdgePatchCore.Embedding;

/// <summary>
/// The per-pixel BGR mean image (1 x 3 x 224 x 224) of the ML.NET ResNet preprocessing graph.
/// It varies across the image (std 3-6), so it is used as is at 224 x 224 and resampled bilinearly otherwise.
/// </summary>
public static class MeanImage
{
    public static readonly float[] ChannelMeansBgr = [103.06f, 115.90f, 123.15f];

    public static float[] Load(int width, int height)
    {
        var path = ResNet18.PreprocessPath;
        if (!File.Exists(path)) throw new BackboneException($"mean image not found: {path}");
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var tensor = model.Graph.Initializer.First(t => t.Name == "MeanImage");
        int srcH = (int)tensor.Dims[2], srcW = (int)tensor.Dims[3];
        float[] src = tensor.FloatData.Count > 0
            ? tensor.FloatData.ToArray()
            : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        if (srcW == width && srcH == height) return src;
        var dst = new float[3 * width * height];
        for (int c = 0; c < 3; c++)
            Resampling.ResizeBilinear(src.AsSpan(c * srcW * srcH, srcW * srcH), srcW, srcH,
                                      dst.AsSpan(c * width * height, width * height), width, height);
        return dst;
    }
}
