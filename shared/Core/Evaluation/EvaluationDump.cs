using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EdgePatchCore.Evaluation;

/// <summary>
/// The anomaly maps and masks an evaluation computed its pixel metrics from, as raw files, so that another
/// implementation (tests/metrics/pixel_metrics.py) can recompute the metrics from identical inputs:
/// <c>maps.f32</c> (n x H x W float32, little-endian), <c>masks-ours.u8</c> / <c>masks-official.u8</c>
/// (n x H x W, 1 = defect pixel, all 0 for a good image), <c>images.tsv</c> (path, defect type) and
/// <c>dump.json</c> (n, width, height, the protocols, and the report's figures for each).
/// Only images with pixel truth (good ones, defective ones with a readable mask) are written.
/// </summary>
public static class EvaluationDump
{
    public static void Write(string directory, IReadOnlyList<(string Path, string DefectType, float[] Map)> images,
                             IReadOnlyList<(MaskProtocol Protocol, byte[]?[] Masks)> masks, int width, int height,
                             IReadOnlyList<EvaluationReport.PixelSummary> figures)
    {
        Directory.CreateDirectory(directory);
        using (var maps = File.Create(Path.Combine(directory, "maps.f32")))
            foreach (var image in images) maps.Write(MemoryMarshal.AsBytes(image.Map.AsSpan()));
        var blank = new byte[width * height];
        foreach (var (protocol, perImage) in masks)
        {
            using var file = File.Create(Path.Combine(directory, $"masks-{MaskProtocols.Name(protocol)}.u8"));
            foreach (var mask in perImage) file.Write(mask ?? blank);
        }
        File.WriteAllLines(Path.Combine(directory, "images.tsv"), images.Select(i => $"{i.Path}\t{i.DefectType}"), Encoding.UTF8);
        File.WriteAllText(Path.Combine(directory, "dump.json"), JsonSerializer.Serialize(new
        {
            count = images.Count, width, height,
            protocols = masks.Select(m => MaskProtocols.Name(m.Protocol)).ToArray(),
            figures,
        }, EvaluationReport.JsonOptions));
    }
}
