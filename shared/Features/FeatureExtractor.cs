using EdgePatchCore.Backbones;
using EdgePatchCore.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Features;

/// <summary>
/// Runs the prepared backbone + patch embedding: a batch of preprocessed images (RGB 0..1, NCHW)
/// in, one row of D floats per patch out (batch x gridH x gridW x D, row-major).
/// </summary>
public sealed class FeatureExtractor : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    public PreparedBackbone Backbone { get; }
    public InputSpec Input { get; }
    public int GridWidth { get; }
    public int GridHeight { get; }
    public int Dimensions => Backbone.Dimensions;
    public int PatchesPerImage => GridWidth * GridHeight;
    public int InputLength => 3 * Input.Width * Input.Height;

    public FeatureExtractor(PreparedBackbone backbone, InputSpec input, ExecutionDevice device)
    {
        Backbone = backbone;
        Input = input;
        using var options = device.CreateSessionOptions();
        _session = new InferenceSession(backbone.Onnx, options);
        // The grid follows from the input size; one warm-up run measures it (and primes the allocator).
        var (_, shape) = Run(new float[InputLength], 1);
        (GridHeight, GridWidth) = ((int)shape[1], (int)shape[2]);
        if (shape[3] != Dimensions) throw new BackboneException($"embedding has {shape[3]} dimensions, expected {Dimensions}");
    }

    /// <summary>Embeds <paramref name="count"/> images laid out back to back in <paramref name="inputs"/>.</summary>
    public float[] Extract(ReadOnlyMemory<float> inputs, int count) => Run(inputs, count).Rows;

    private (float[] Rows, long[] Shape) Run(ReadOnlyMemory<float> inputs, int count)
    {
        var memory = System.Runtime.InteropServices.MemoryMarshal.AsMemory(inputs[..(count * InputLength)]);
        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory,
            [count, 3, Input.Height, Input.Width]);
        using var results = _session.Run(_runOptions, [Backbone.InputName], [tensor], [Backbone.OutputName]);
        var output = results[0];
        return (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
