using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using Microsoft.ML.OnnxRuntime;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Embedding;

/// <summary>
/// Runs the prepared backbone + patch embedding: a batch of preprocessed images (RGB 0..1, NCHW)
/// in, one row of D floats per patch out (batch x gridH x gridW x D, row-major).
/// </summary>
public sealed class FeatureExtractor : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    public PreparedBackbone Backbone { get; }
    /// <summary>The precision the convolutions run at (resolved: float32 or int8).</summary>
    public BackbonePrecision Precision { get; }
    public InputSpec Input { get; }
    public int GridWidth { get; }
    public int GridHeight { get; }
    public int Dimensions => Backbone.Dimensions;
    public int PatchesPerImage => GridWidth * GridHeight;
    public int InputLength => 3 * Input.Width * Input.Height;

    public FeatureExtractor(PreparedBackbone backbone, InputSpec input, ExecutionDevice device,
        BackbonePrecision precision = BackbonePrecision.Float32)
    {
        if (precision == BackbonePrecision.Auto) throw new ArgumentException("resolve the backbone precision first", nameof(precision));
        Backbone = backbone;
        Input = input;
        Precision = precision;
        using var options = device.CreateSessionOptions();
        _session = new InferenceSession(precision == BackbonePrecision.Int8 ? BackboneQuantizer.Quantize(backbone) : backbone.Onnx, options);
        // The grid follows from the input size; one warm-up run measures it (and primes the allocator).
        using var tensor = InputTensor(new float[InputLength], 1);
        using var results = _session.Run(_runOptions, [Backbone.InputName], [tensor], [Backbone.OutputName]);
        var shape = results[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 4 || shape[1] < 1 || shape[2] < 1 || shape[1] > input.Height || shape[2] > input.Width)
            throw new BackboneException($"the backbone's output has shape [{string.Join(", ", shape)}]; expected 1 x H x W x {Dimensions} with H, " +
                $"W up to the input size");
        (GridHeight, GridWidth) = ((int)shape[1], (int)shape[2]);
        if (shape[3] != Dimensions) throw new BackboneException($"embedding has {shape[3]} dimensions, expected {Dimensions}");
    }

    /// <summary>Embeds <paramref name="count"/> images laid out back to back in <paramref name="inputs"/>.</summary>
    public float[] Extract(ReadOnlyMemory<float> inputs, int count)
    {
        var rows = new float[count * PatchesPerImage * Dimensions];
        Extract(inputs, count, rows);
        return rows;
    }

    /// <summary>
    /// The same into the caller's buffer (count x patches x dimensions), which ONNX Runtime writes directly: a
    /// loop over thousands of batches then allocates nothing per batch (a fresh array each time is tens of MB of
    /// large-object garbage per batch, which the GC lets pile up into gigabytes before it collects).
    /// </summary>
    public void Extract(ReadOnlyMemory<float> inputs, int count, Memory<float> rows)
    {
        int length = count * PatchesPerImage * Dimensions;
        if (rows.Length < length) throw new ArgumentException($"buffer holds {rows.Length} values, {length} needed");
        using var input = InputTensor(inputs, count);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, rows[..length],
            [count, GridHeight, GridWidth, Dimensions]);
        _session.Run(_runOptions, [Backbone.InputName], [input], [Backbone.OutputName], [output]);
    }

    private OrtValue InputTensor(ReadOnlyMemory<float> inputs, int count) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(inputs[..(count * InputLength)]), [count, 3, Input.Height, Input.Width]);

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
