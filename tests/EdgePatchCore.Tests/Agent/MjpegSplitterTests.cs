using System.Text;
using EdgePatchCore.Agent.Sources;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Agent;

public class MjpegSplitterTests
{
    private static byte[] Jpeg(int seed) => Imaging.CraftedImages.NoiseJpeg(48, 32, seed);

    /// <summary>An APP1 (EXIF-like) segment after the SOI whose payload holds a whole thumbnail, FF D9 included.</summary>
    private static byte[] WithThumbnail(byte[] jpeg, byte[] thumbnail)
    {
        int length = thumbnail.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. thumbnail, .. jpeg[2..]];
    }

    private static List<byte[]> Split(byte[] stream, int chunk, int max = 1 << 20)
    {
        var splitter = new MjpegSplitter(max);
        var frames = new List<byte[]>();
        for (int i = 0; i < stream.Length; i += chunk)
        {
            splitter.Append(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
            while (splitter.TryTake(out var frame)) frames.Add(frame);
        }
        return frames;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Splits_a_multipart_stream_into_the_original_jpegs_whatever_the_read_size(int chunk)
    {
        var jpegs = new[] { Jpeg(1), WithThumbnail(Jpeg(2), Jpeg(9)), Jpeg(3) };
        var stream = new List<byte>();
        foreach (var j in jpegs)
        {
            stream.AddRange(Encoding.ASCII.GetBytes($"--boundary\r\nContent-Type: image/jpeg\r\nContent-Length: {j.Length}\r\n\r\n"));
            stream.AddRange(j);
            stream.AddRange("\r\n"u8.ToArray());
        }
        var frames = Split(stream.ToArray(), chunk);
        Assert.Equal(jpegs.Length, frames.Count);
        for (int i = 0; i < jpegs.Length; i++) Assert.Equal(jpegs[i], frames[i]);
        using var decoded = Image.Load<Rgb24>(frames[1]); // the thumbnail's FF D9 did not cut it short
        Assert.Equal(48, decoded.Width);
    }

    [Fact]
    public void A_frame_cut_off_by_the_next_one_is_dropped_and_the_stream_resynchronises()
    {
        var first = Jpeg(4);
        var second = Jpeg(5);
        var frames = Split([.. first[..(first.Length / 2)], .. second], 13);
        Assert.Equal(second, Assert.Single(frames));
    }

    [Fact]
    public void Frames_over_the_size_limit_are_discarded_and_counted()
    {
        var small = Jpeg(6);
        var splitter = new MjpegSplitter(small.Length + 10);
        var big = WithThumbnail(Jpeg(7), new byte[small.Length * 2]);
        splitter.Append([.. big, .. small]);
        Assert.True(splitter.TryTake(out var frame));
        Assert.Equal(small, frame);
        Assert.Equal(1, splitter.Oversized);
    }
}
