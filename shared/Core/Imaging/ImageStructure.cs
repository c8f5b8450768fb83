using System.Buffers.Binary;

namespace EdgePatchCore.Imaging;

/// <summary>
/// Checks that an encoded image is complete before it is decoded: decoders pad missing data with grey
/// (JPEG) or stop early without an error, and a frame whose upload was cut off would then be scored as if
/// it were a real part. Walks the container only (markers, chunks, headers), never the pixel data.
/// </summary>
public static class ImageStructure
{
    /// <summary>
    /// Null when the image is complete; otherwise why not. JPEG: an end-of-image marker must follow the
    /// last scan (and at most <paramref name="maxJpegScans"/> scans); PNG: an IEND chunk must follow the
    /// image data; BMP (uncompressed): the pixel rows must all be in the file.
    /// </summary>
    public static string? Check(ReadOnlySpan<byte> bytes, string formatName, int maxJpegScans) => formatName.ToUpperInvariant() switch
    {
        "JPEG" => CheckJpeg(bytes, maxJpegScans),
        "PNG" => CheckPng(bytes),
        "BMP" => CheckBmp(bytes),
        _ => null,
    };

    private static string? CheckJpeg(ReadOnlySpan<byte> b, int maxScans)
    {
        if (b.Length < 4 || b[0] != 0xFF || b[1] != 0xD8) return "not a JPEG start of image";
        int pos = 2, scans = 0;
        bool frame = false;
        while (true)
        {
            if (pos >= b.Length) return Cut(scans);
            if (b[pos] != 0xFF) return "JPEG marker expected but data found (damaged file)";
            while (pos < b.Length && b[pos] == 0xFF) pos++; // fill bytes
            if (pos >= b.Length) return Cut(scans);
            byte marker = b[pos++];
            if (marker == 0xD9) return scans == 0 || !frame ? "JPEG has no image data" : null; // EOI
            if (marker == 0xD8) return "JPEG contains a second start of image before the first one ended";
            if (marker is 0x01 or >= 0xD0 and <= 0xD7) continue; // standalone markers
            if (pos + 2 > b.Length) return Cut(scans);
            int length = BinaryPrimitives.ReadUInt16BigEndian(b[pos..]);
            if (length < 2) return "JPEG segment with an invalid length (damaged file)";
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC) frame = true; // SOFn
            pos += length;
            if (pos > b.Length) return Cut(scans);
            if (marker != 0xDA) continue;
            if (++scans > maxScans) return $"JPEG has more than {maxScans} scans (a decoder CPU bomb, not a camera frame)";
            // Entropy-coded data runs to the next marker that is not stuffing (FF 00), a restart (FF D0-D7) or fill.
            while (true)
            {
                int ff = b[pos..].IndexOf((byte)0xFF);
                if (ff < 0) return Cut(scans);
                pos += ff;
                if (pos + 1 >= b.Length) return Cut(scans);
                byte next = b[pos + 1];
                if (next == 0x00 || next is >= 0xD0 and <= 0xD7) { pos += 2; continue; }
                if (next == 0xFF) { pos += 1; continue; }
                break;
            }
        }
    }

    private static string Cut(int scans) => scans == 0
        ? "JPEG ends inside its headers (file cut short)"
        : "JPEG image data ends before the end-of-image marker (file cut short)";

    private static string? CheckPng(ReadOnlySpan<byte> b)
    {
        long pos = 8;
        bool data = false;
        while (true)
        {
            if (pos + 8 > b.Length) return data ? "PNG ends before its IEND chunk (file cut short)" : "PNG ends inside its headers (file cut short)";
            uint length = BinaryPrimitives.ReadUInt32BigEndian(b[(int)pos..]);
            if (length > int.MaxValue) return "PNG chunk with an invalid length (damaged file)";
            var type = b.Slice((int)pos + 4, 4);
            long end = pos + 12 + length;
            if (type.SequenceEqual("IDAT"u8)) data = true;
            if (end > b.Length) return data ? "PNG image data ends before its IEND chunk (file cut short)" : "PNG ends inside its headers (file " +
                "cut short)";
            if (type.SequenceEqual("IEND"u8)) return data ? null : "PNG has no image data";
            pos = end;
        }
    }

    private static string? CheckBmp(ReadOnlySpan<byte> b)
    {
        if (b.Length < 30) return "BMP ends inside its headers (file cut short)";
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(b[10..]);
        uint header = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]);
        long width, height;
        int bits;
        uint compression = 0;
        if (header == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(b[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(b[20..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(b[24..]);
        }
        else
        {
            if (b.Length < 34) return "BMP ends inside its headers (file cut short)";
            width = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b[18..]));
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b[22..])); // negative: rows top-down
            bits = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]);
            compression = BinaryPrimitives.ReadUInt32LittleEndian(b[30..]);
        }
        if (compression is not (0 or 3 or 6)) return null; // run-length coded: the decoder checks its own data
        long stride = (bits * width + 31) / 32 * 4;
        long needed = offset + stride * height;
        return needed > b.Length ? $"BMP pixel data ends early ({b.Length} of {needed} bytes; file cut short)" : null;
    }
}
