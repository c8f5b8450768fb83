using System.Globalization;
using System.Net;
using System.Text;
using EdgePatchCore.Artifacts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Trainer.Reports;

/// <summary>What the trainer's HTML reports share: the page head with its inline style, the model card, inline images.</summary>
public static class ReportHtml
{
    public static string Head(string title) =>
        $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title><style>{Style}</style></head><body>";

    /// <summary>The model card: what the model is, where it came from, how it was built, who signed it.</summary>
    public static string ModelCard(Artifact artifact)
    {
        var html = new StringBuilder();
        var c = artifact.Content;
        var m = c.Manifest;
        string Option(string key) => m.BuildOptions.TryGetValue(key, out var v) ? v : "n/a";
        var rows = new List<(string, string)>
        {
            ("product", m.Product),
            ("model id", artifact.Id),
            ("parent model", m.ParentId is null ? "none (a full build)"
                : $"{m.ParentId}, extended with " +
                    $"{string.Join("; ", (m.Extensions ?? []).Select(x => $"{x.AddedImages} images (+{x.AddedRows} rows, {x.AtUtc:yyyy-MM-dd})"))}"),
            ("backbone and layers",
                $"{Option("backbone")}, {Option("layers").Replace(",", " + ")}, {c.Embedding.Dimensions}-d patches ({Option("aggregation")})"),
            ("input and tiling", $"{c.Input}; whole frame, no tiling"),
            ("memory bank",
                $"{c.Bank.Rows:N0} rows of {m.TrainingPatchCount:N0} training patches ({Option("coreset")}); coverage radius {m.CoverageRadius:G5}"),
            ("training images", $"{m.TrainingImageCount}; threshold from {m.CalibrationImageCount} scores ({Option("calibration")})"),
            ("threshold", $"{c.Scoring.Threshold:G5} for a {Option("falseRejectRate")} false-reject target ({c.Calibration?.Method ?? "n/a"})"),
            ("built", $"{m.CreatedAtUtc:yyyy-MM-dd HH:mm} UTC in {m.BuildSeconds:F0} s by trainer {m.TrainerVersion}, preset {Option("preset")}"),
            ("dataset fingerprint", m.DatasetFingerprint),
            ("signature", artifact.Signature is { } s ? $"key {s.KeyId} ({s.Algorithm})" : "unsigned"),
        };
        html.Append("<h2>Model</h2><table class=\"card\">");
        foreach (var (k, v) in rows) html.Append("<tr><th>").Append(E(k)).Append("</th><td>").Append(E(v)).Append("</td></tr>");
        return html.Append("</table>").ToString();
    }

    /// <summary>An image as a JPEG data URI (quality 85).</summary>
    public static string Jpeg(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 85 });
        return "data:image/jpeg;base64," + Convert.ToBase64String(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
        h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } .muted { color: #666; }
        table { border-collapse: collapse; margin: 0.5em 0; } th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; } table.card th { color: #555; font-weight: normal; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } figcaption { max-width: 400px; font-size: 0.85em; color: #555; }
        .gallery { display: flex; flex-wrap: wrap; gap: 0.8em; } .tile { width: 180px; font-size: 0.75em; word-break: break-all; }
        img.thumb { width: 180px; height: auto; image-rendering: auto; border: 1px solid #ccc; }
        .full { display: none; position: fixed; inset: 0; background: #111; color: #eee; z-index: 10; padding: 2em;
                overflow: auto; flex-wrap: wrap; gap: 1em; align-items: flex-start; justify-content: center; font-size: 1.2em; }
        .full:target { display: flex; } .full img { max-width: 45vw; max-height: 80vh; }
        .full img.overlay { width: 45vw; max-width: 640px; image-rendering: pixelated; }
        .full p { width: 100%; text-align: center; } .close { color: #fff; position: absolute; top: 0.5em; right: 1em; }
        """;
}
