using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Imaging;

/// <summary>
/// Hostile and damaged images, generated in the tests (none is checked in): decoder CPU bombs, files cut
/// short in their data, extreme shapes, multi-page TIFFs.
/// </summary>
public static class CraftedImages
{
    /// <summary>A baseline JPEG of noise (hard to compress, so the scan data is most of the file).</summary>
    public static byte[] NoiseJpeg(int width, int height, int seed = 1)
    {
        using var image = new Image<Rgb24>(width, height);
        var rng = new Random(seed);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
                foreach (ref var p in rows.GetRowSpan(y)) p = new Rgb24((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
        });
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);
        return stream.ToArray();
    }

    public static byte[] NoisePng(int width, int height, int seed = 1)
    {
        using var image = Image.Load<Rgb24>(NoiseJpeg(width, height, seed));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>A JPEG whose headers are complete but whose entropy-coded data stops at <paramref name="fraction"/> of the file (an upload cut off).</summary>
    public static byte[] CutInScanData(byte[] jpeg, double fraction = 0.7) => jpeg[..(int)(jpeg.Length * fraction)];

    /// <summary>A PNG missing its last chunk (IEND) and the end of its image data.</summary>
    public static byte[] PngCutShort(byte[] png) => png[..(png.Length - 200)];

    /// <summary>
    /// A progressive JPEG of <paramref name="width"/> x <paramref name="height"/> with a DC scan and then
    /// <paramref name="scans"/> AC scans that each cover every block with end-of-band runs: a few hundred
    /// bytes per scan, yet each makes the decoder walk the whole image once more.
    /// </summary>
    public static byte[] ProgressiveScanBomb(int width, int height, int scans)
    {
        var o = new List<byte>();
        void Segment(int marker, byte[] body)
        {
            o.Add(0xFF); o.Add((byte)marker);
            int length = body.Length + 2;
            o.Add((byte)(length >> 8)); o.Add((byte)length);
            o.AddRange(body);
        }
        o.AddRange(new byte[] { 0xFF, 0xD8 });
        Segment(0xDB, [0, .. Enumerable.Repeat((byte)1, 64)]); // quantisation table
        Segment(0xC2, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0]); // progressive, one component
        var counts = new byte[16];
        counts[0] = 1;
        Segment(0xC4, [0x00, .. counts, 0x00]); // DC: one code, "difference 0"
        Segment(0xC4, [0x10, .. counts, 0xE0]); // AC: one code, "end-of-band run of 2^14 + n blocks"
        long blocks = (long)((width + 7) / 8) * ((height + 7) / 8);
        Segment(0xDA, [1, 1, 0x00, 0, 0, 0]); // DC scan: one 0 bit per block
        o.AddRange(new byte[blocks / 8]);
        if (blocks % 8 != 0) o.Add((byte)(0xFF >> (int)(blocks % 8)));
        var bits = new List<bool>();
        for (long left = blocks; left > 0;)
        {
            long run = Math.Min(32767, Math.Max(16384, left));
            long extra = run - 16384;
            bits.Add(false);
            for (int b = 13; b >= 0; b--) bits.Add(((extra >> b) & 1) != 0);
            left -= run;
        }
        var ac = new List<byte>();
        for (int i = 0; i < bits.Count; i += 8)
        {
            int value = 0;
            for (int j = 0; j < 8; j++) value = (value << 1) | (i + j < bits.Count ? (bits[i + j] ? 1 : 0) : 1);
            ac.Add((byte)value);
            if (value == 0xFF) ac.Add(0);
        }
        for (int s = 0; s < scans; s++)
        {
            Segment(0xDA, [1, 1, 0x00, 1, 63, 0]); // AC scan over the whole band
            o.AddRange(ac);
        }
        o.AddRange(new byte[] { 0xFF, 0xD9 });
        return o.ToArray();
    }

    /// <summary>An uncompressed 8-bit grayscale TIFF with <paramref name="pages"/> pages; page p is filled with grey value 10 + p.</summary>
    public static byte[] MultiPageTiff(int pages, int width, int height)
    {
        const int entries = 8, ifdSize = 2 + entries * 12 + 4;
        int pixels = width * height;
        var tiff = new byte[8 + pages * (ifdSize + pixels)];
        "II"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), 8);
        int pos = 8;
        for (int p = 0; p < pages; p++)
        {
            int ifd = pos, data = ifd + ifdSize, next = p + 1 < pages ? data + pixels : 0;
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(ifd), entries);
            (ushort Tag, ushort Type, uint Value)[] tags =
            [
                (256, 4, (uint)width), (257, 4, (uint)height), (258, 3, 8), (259, 3, 1), // width, height, 8 bits, no compression
                (262, 3, 1), (273, 4, (uint)data), (278, 4, (uint)height), (279, 4, (uint)pixels), // black is zero, one strip
            ];
            for (int t = 0; t < entries; t++)
            {
                var e = tiff.AsSpan(ifd + 2 + t * 12);
                BinaryPrimitives.WriteUInt16LittleEndian(e, tags[t].Tag);
                BinaryPrimitives.WriteUInt16LittleEndian(e[2..], tags[t].Type);
                BinaryPrimitives.WriteUInt32LittleEndian(e[4..], 1);
                if (tags[t].Type == 3) BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)tags[t].Value);
                else BinaryPrimitives.WriteUInt32LittleEndian(e[8..], tags[t].Value);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(ifd + 2 + entries * 12), (uint)next);
            tiff.AsSpan(data, pixels).Fill((byte)(10 + p));
            pos = data + pixels;
        }
        return tiff;
    }
}
