using System.Numerics.Tensors;
using EdgePatchCore.Devices;
using EdgePatchCore.Imaging;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Embedding;

/// <summary>
/// Measures the range of every activation the int8 backbone quantizes: the float graph runs on training images with
/// those tensors exposed as outputs, and each tensor's smallest and largest value is kept (ONNX Runtime's MinMax
/// calibration). Done once at build time; the result goes into the artifact.
/// </summary>
public sealed class ActivationCalibrator : IDisposable
{
    /// <summary>Images (or tiles) the ranges are measured on: more only widens min/max with rarer values.</summary>
    public const int DefaultInputs = 32;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string _inputName;
    private readonly InputSpec _input;
    private readonly string[] _tensors;
    private readonly float[] _min, _max;
    private int _inputs;

    public ActivationCalibrator(PreparedBackbone backbone, InputSpec input, ExecutionDevice device)
    {
        _tensors = BackboneQuantizer.CalibratedTensors(backbone.Onnx);
        var model = ModelProto.Parser.ParseFrom(backbone.Onnx);
        model.Graph.Output.Clear();
        foreach (var tensor in _tensors) model.Graph.Output.Add(AnyFloatTensor(tensor));
        using var options = device.CreateSessionOptions();
        _session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
        (_inputName, _input) = (backbone.InputName, input);
        _min = Enumerable.Repeat(float.PositiveInfinity, _tensors.Length).ToArray();
        _max = Enumerable.Repeat(float.NegativeInfinity, _tensors.Length).ToArray();
    }

    /// <summary>How many inputs have been measured.</summary>
    public int Inputs => _inputs;

    /// <summary>Runs <paramref name="count"/> preprocessed inputs (count x 3 x H x W, RGB 0..1) and widens the ranges.</summary>
    public void Add(ReadOnlyMemory<float> inputs, int count)
    {
        int length = 3 * _input.Width * _input.Height * count;
        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(inputs[..length]), [count, 3, _input.Height, _input.Width]);
        using var results = _session.Run(_runOptions, [_inputName], [tensor], _tensors);
        for (int i = 0; i < _tensors.Length; i++)
        {
            var values = results[i].GetTensorDataAsSpan<float>();
            _min[i] = Math.Min(_min[i], TensorPrimitives.Min(values));
            _max[i] = Math.Max(_max[i], TensorPrimitives.Max(values));
        }
        _inputs += count;
    }

    public ActivationRanges Ranges() => _inputs == 0
        ? throw new BackboneException("no image was measured for the int8 backbone's ranges")
        : new ActivationRanges { Tensors = _tensors, Min = (float[])_min.Clone(), Max = (float[])_max.Clone(), Inputs = _inputs };

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
