using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Metadata;
using EdgePatchCore.FileSystem;

namespace EdgePatchCore.Imaging;

/// <summary>
/// Decodes PNG, JPEG, BMP and TIFF with ImageSharp and turns them into the network input
/// (RGB float in 0..1, planar CHW) according to an <see cref="InputSpec"/>.
/// Grayscale and RGBA sources become RGB; alpha is ignored.
/// </summary>
public sealed class ImageLoader
{
    private readonly Configuration _configuration;
    private readonly ImageLimits _limits;
    private readonly string _formats;

    public ImageLoader(ImageLimits? limits = null)
    {
        _limits = limits ?? new ImageLimits();
        // Only the formats we accept are registered: an unknown format is refused, not guessed.
        IConfigurationModule[] modules = [new PngConfigurationModule(), new JpegConfigurationModule(), new BmpConfigurationModule()];
        _configuration = new Configuration(_limits.AcceptTiff ? [.. modules, new TiffConfigurationModule()] : modules)
        {
            // One pixel block per image (not 4 MB pieces): tiles are cut straight from it (TiledFrame), and the frame
            // sizes are bounded by the limits checked before any decode.
            PreferContiguousImageBuffers = true,
        };
        // A multi-page TIFF would otherwise decode every page (20 pages of 4000 x 4000: 2.2 GB); frames are the first.
        if (_limits.AcceptTiff) _configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance,
            new TiffDecoder { DecodingMode = FrameDecodingMode.First });
        _formats = _limits.AcceptTiff ? "a PNG, JPEG, BMP or TIFF image" : "a PNG, JPEG or BMP image";
    }

    public ImageLimits Limits => _limits;

    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>An image file's width and height from its header (nothing decoded), within the same limits as a decode.</summary>
    public (int Width, int Height) Size(string path)
    {
        try
        {
            byte[] bytes = RegularFile.Read(path, _limits.MaxBytes);
            using var header = new MemoryStream(bytes, writable: false);
            var info = Image.Identify(_configuration, header, out _) ?? throw new ImageLoadException($"{path}: not {_formats}");
            CheckSize(info.Width, info.Height, path);
            return (info.Width, info.Height);
        }
        catch (FileRefusedException e) { throw new ImageLoadException(e.Message, e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnknownImageFormatException or InvalidImageContentException)
        {
            throw new ImageLoadException($"{path}: cannot read its size ({e.Message})", e);
        }
    }

    /// <summary>Decodes a file to RGB pixels: a regular file only, never read past the byte limit, checked before decoding.</summary>
    public Image<Rgb24> Decode(string path)
    {
        byte[] bytes;
        try
        {
            bytes = RegularFile.Read(path, _limits.MaxBytes);
        }
        catch (FileRefusedException e) { throw new ImageLoadException(e.Message, e); }
        catch (IOException e) { throw new ImageLoadException($"{path}: cannot read ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new ImageLoadException($"{path}: cannot read ({e.Message})", e); }
        return Decode(bytes, path);
    }

    /// <summary>
    /// Decodes an in-memory frame to RGB pixels. Before any pixel buffer exists: the byte limit, the format,
    /// each side, the pixel count and the aspect ratio from the header, and the container's completeness
    /// (<see cref="ImageStructure"/>); the decode itself runs under <see cref="ImageLimits.DecodeTimeout"/>.
    /// Every failure, whatever its cause, is an <see cref="ImageLoadException"/> naming the frame.
    /// </summary>
    public Image<Rgb24> Decode(byte[] bytes, string name)
    {
        if (bytes.Length == 0) throw new ImageLoadException($"{name}: empty (0 bytes)");
        if (bytes.Length > _limits.MaxBytes)
            throw new ImageLoadException($"{name}: {bytes.Length} bytes, over the limit of {_limits.MaxBytes}");
        try
        {
            IImageInfo? info;
            IImageFormat? format;
            using (var header = new MemoryStream(bytes, writable: false))
                info = Image.Identify(_configuration, header, out format);
            if (info is null || format is null)
                throw new ImageLoadException($"{name}: not {_formats}");
            CheckSize(info.Width, info.Height, name);
            if (ImageStructure.Check(bytes, format.Name, _limits.MaxJpegScans) is { } incomplete)
                throw new ImageLoadException($"{name}: {incomplete}");
            var decoder = _configuration.ImageFormatsManager.FindDecoder(format)
                          ?? throw new ImageLoadException($"{name}: not {_formats}");
            var image = DecodeWithinBudget(decoder, bytes, name);
            if (image.Width != info.Width || image.Height != info.Height)
            {
                image.Dispose();
                throw new ImageLoadException($"{name}: decoded size differs from the header's (damaged file)");
            }
            return image;
        }
        catch (ImageLoadException) { throw; }
        catch (Exception e) when (e is UnknownImageFormatException)
        {
            throw new ImageLoadException($"{name}: not {_formats}", e);
        }
        catch (Exception e) // a decoder bug or a crafted file must fail this one frame, never the caller
        {
            throw new ImageLoadException($"{name}: corrupt or unsupported image ({e.Message})", e);
        }
    }

    /// <summary>
    /// Decodes on a worker and waits at most <see cref="ImageLimits.DecodeTimeout"/>. ImageSharp checks the
    /// cancellation only now and then (when it refills its read buffer), so the frame does not wait for it:
    /// past the budget the frame fails at once, the token is cancelled and the stream closed, which ends an
    /// abandoned decode at its next read, and an image it still produces is disposed.
    /// </summary>
    private Image<Rgb24> DecodeWithinBudget(IImageDecoder decoder, byte[] bytes, string name)
    {
        ImageLoadException TooSlow() => new($"{name}: decoding took longer than {_limits.DecodeTimeout.TotalMilliseconds:F0} ms " +
                                             "(a damaged or crafted image; Limits:DecodeTimeoutMilliseconds)");
        var budget = new CancellationTokenSource(_limits.DecodeTimeout);
        var stream = new MemoryStream(bytes, writable: false);
        // Its own thread, not the pool's: the caller blocks while it waits, and decodes run several at a time.
        var decoding = Task.Factory.StartNew(() => decoder.Decode<Rgb24>(_configuration, stream, budget.Token),
                                             CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (Task.WaitAny([decoding], _limits.DecodeTimeout) != 0)
        {
            budget.Cancel();
            stream.Dispose();
            decoding.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); budget.Dispose(); }, TaskScheduler.Default);
            throw TooSlow();
        }
        stream.Dispose();
        budget.Dispose();
        if (decoding.IsCompletedSuccessfully) return decoding.Result;
        var error = decoding.Exception!.GetBaseException();
        if (error is OperationCanceledException) throw TooSlow();
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        throw error; // not reached
    }

    /// <summary>Refuses sizes outside the limits, on the header's width and height alone.</summary>
    private void CheckSize(int width, int height, string name)
    {
        if (width < 1 || height < 1) throw new ImageLoadException($"{name}: image has no pixels ({width} x {height})");
        if (width > _limits.MaxWidth || height > _limits.MaxHeight)
            throw new ImageLoadException($"{name}: {width} x {height} pixels, over the limit of {_limits.MaxWidth} x {_limits.MaxHeight}");
        if ((long)width * height > _limits.MaxPixels)
            throw new ImageLoadException($"{name}: {width} x {height} pixels, over the limit of {_limits.MaxPixels}");
        double aspect = (double)Math.Max(width, height) / Math.Min(width, height);
        if (aspect > _limits.MaxAspectRatio)
            throw new ImageLoadException($"{name}: {width} x {height} pixels, aspect ratio {aspect:G4} over the limit of " +
                $"{_limits.MaxAspectRatio:G4}");
    }

    /// <summary>Decodes and preprocesses a file into <paramref name="chw"/> (3 x H x W floats, RGB 0..1).</summary>
    public void LoadInput(string path, InputSpec spec, Span<float> chw)
    {
        using var image = Decode(path);
        ToInput(image, spec, chw, path);
    }

    /// <summary>
    /// A ground-truth mask with the same geometry as the images (so it lines up with the anomaly map), 1 = defect: a resized pixel counts when its
    /// grey level is at least
    /// <paramref name="minimumLevel"/> (128: at least half of it lies in the defect; 255: all of it).
    /// </summary>
    public byte[] LoadMask(string path, InputSpec spec, byte minimumLevel = 128)
    {
        using var rgb = Decode(path);
        using var gray = rgb.CloneAs<L8>();
        using var resized = Resize(gray, spec, path);
        var pixels = new L8[spec.Width * spec.Height];
        resized.CopyPixelDataTo(pixels);
        var mask = new byte[pixels.Length];
        for (int i = 0; i < mask.Length; i++) mask[i] = pixels[i].PackedValue >= minimumLevel ? (byte)1 : (byte)0;
        return mask;
    }

    /// <summary>Resizes per <paramref name="spec"/> and writes planar RGB floats in 0..1.</summary>
    public static void ToInput(Image<Rgb24> image, InputSpec spec, Span<float> chw, string name = "image")
    {
        using var resized = Resize(image, spec, name);
        WritePlanar(resized, chw);
    }

    /// <summary>Brings an image to the input size; a mask uses the same geometry, so it lines up.</summary>
    public static Image<TPixel> Resize<TPixel>(Image<TPixel> image, InputSpec spec, string name = "image")
        where TPixel : unmanaged, IPixel<TPixel>
    {
        if (image.Width < 1 || image.Height < 1) throw new ImageLoadException($"{name}: image has no pixels");
        var resampler = KnownResamplers.Triangle; // bilinear with antialiasing when shrinking, like PIL's BILINEAR
        var clone = image.Clone();
        try
        {
            switch (spec.Mode)
            {
                case ResizeMode.Stretch:
                    clone.Mutate(c => c.Resize(spec.Width, spec.Height, resampler));
                    break;
                case ResizeMode.CenterCrop:
                {
                    double scale = (double)spec.ResizeTo / Math.Min(image.Width, image.Height);
                    int w = Math.Max(spec.Width, (int)Math.Round(image.Width * scale));
                    int h = Math.Max(spec.Height, (int)Math.Round(image.Height * scale));
                    clone.Mutate(c => c.Resize(w, h, resampler)
                        .Crop(new Rectangle((w - spec.Width) / 2, (h - spec.Height) / 2, spec.Width, spec.Height)));
                    break;
                }
                case ResizeMode.Letterbox:
                {
                    double scale = Math.Min((double)spec.Width / image.Width, (double)spec.Height / image.Height);
                    int w = Math.Max(1, (int)Math.Round(image.Width * scale));
                    int h = Math.Max(1, (int)Math.Round(image.Height * scale));
                    clone.Mutate(c => c.Resize(w, h, resampler)
                        .Resize(new ResizeOptions
                        {
                            Size = new Size(spec.Width, spec.Height), Mode = SixLabors.ImageSharp.Processing.ResizeMode.BoxPad,
                            Position = AnchorPositionMode.Center, PadColor = Color.Black,
                        }));
                    break;
                }
            }
            return clone;
        }
        catch
        {
            clone.Dispose();
            throw;
        }
    }

    private static void WritePlanar(Image<Rgb24> image, Span<float> chw)
    {
        int plane = image.Width * image.Height;
        if (chw.Length < 3 * plane) throw new ArgumentException("input buffer too small", nameof(chw));
        var pixels = System.Buffers.ArrayPool<Rgb24>.Shared.Rent(plane);
        try
        {
            image.CopyPixelDataTo(pixels.AsSpan(0, plane));
            var r = chw[..plane];
            var g = chw.Slice(plane, plane);
            var b = chw.Slice(2 * plane, plane);
            const float inv = 1f / 255f;
            for (int i = 0; i < plane; i++)
            {
                r[i] = pixels[i].R * inv;
                g[i] = pixels[i].G * inv;
                b[i] = pixels[i].B * inv;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<Rgb24>.Shared.Return(pixels);
        }
    }
}
