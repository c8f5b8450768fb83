using EdgePatchCore.Devices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace EdgePatchCore.Search;

/// <summary>
/// The ONNX Runtime side that every bank search shares: bank tensors placed once where the search runs, one
/// session per graph (made on first use) with those tensors bound to it (IOBinding), and everything disposed
/// together. The only place the search asks which device it is on.
/// </summary>
internal sealed class KnnSession : IDisposable
{
    private readonly ExecutionDevice _device;
    private readonly bool _requireDevice;
    private readonly RunOptions _runOptions = new();
    private readonly List<IDisposable> _resources = [];
    private readonly Dictionary<string, OrtValue> _bank = [];
    private readonly Dictionary<string, (InferenceSession Session, OrtIoBinding Binding)> _sessions = [];
    private readonly long[] _k = new long[1];

    /// <param name="requireDevice">On CUDA: fail to load a graph that ONNX Runtime would run partly on the CPU.</param>
    public KnnSession(ExecutionDevice device, bool requireDevice)
    {
        _device = device;
        _requireDevice = requireDevice;
    }

    public int Threads => _device.Threads;

    /// <summary>
    /// Puts a bank tensor where the search runs: on the CPU the tensor over the (pinned) array itself; on CUDA
    /// a copy in device memory, made once by an Identity graph whose output is bound to the device.
    /// </summary>
    public void Upload<T>(string name, T[] data, long[] shape) where T : unmanaged
    {
        var host = Track(OrtValue.CreateTensorValueFromMemory(data, shape)); // pins the array while it lives
        if (_device.Actual != DeviceKind.Cuda)
        {
            _bank[name] = host;
            return;
        }
        using var options = _device.CreateSessionOptions();
        var upload = Track(new InferenceSession(KnnGraphs.Upload(ElementType<T>(), shape.Length).ToByteArray(), options));
        using var binding = upload.CreateIoBinding();
        using var cuda = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
        binding.BindInput("host", host);
        binding.BindOutputToDevice("device", cuda);
        upload.RunWithBinding(_runOptions, binding);
        binding.SynchronizeBoundOutputs();
        var outputs = Track(binding.GetOutputValues());
        _bank[name] = outputs[0];
        _resources.Remove(host);
        host.Dispose(); // the device copy is all the search needs
    }

    /// <summary>
    /// The session of one graph (made on first use, under <paramref name="key"/>) with the bank tensors it takes
    /// bound once, and its "k" and "offsets" inputs bound to <see cref="SetK"/> and <paramref name="offsets"/>.
    /// </summary>
    public OrtIoBinding Binding(string key, Func<ModelProto> graph, float[]? offsets = null)
    {
        if (_sessions.TryGetValue(key, out var made)) return made.Binding;
        using var options = _device.CreateSessionOptions();
        if (_requireDevice && !_device.RequireDeviceForEveryNode && _device.Actual == DeviceKind.Cuda)
            options.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1");
        var session = new InferenceSession(graph().ToByteArray(), options);
        var binding = session.CreateIoBinding();
        var inputs = session.InputNames.ToHashSet();
        foreach (var (name, value) in _bank)
            if (inputs.Contains(name)) binding.BindInput(name, value);
        if (inputs.Contains("k")) binding.BindInput("k", Track(OrtValue.CreateTensorValueFromMemory(_k, [1])));
        if (inputs.Contains("offsets") && offsets is not null)
            binding.BindInput("offsets", Track(OrtValue.CreateTensorValueFromMemory(offsets, [offsets.Length])));
        _sessions[key] = (session, binding);
        return binding;
    }

    /// <summary>The k (or candidate count) that the next run of a graph with a "k" input uses.</summary>
    public void SetK(int k) => _k[0] = k;

    public void Run(string key, OrtIoBinding binding) => _sessions[key].Session.RunWithBinding(_runOptions, binding);

    private static DataType ElementType<T>() =>
        typeof(T) == typeof(float) ? DataType.Float
        : typeof(T) == typeof(Float16) ? DataType.Float16
        : typeof(T) == typeof(sbyte) ? DataType.Int8
        : throw new NotSupportedException(typeof(T).Name);

    private TDisposable Track<TDisposable>(TDisposable value) where TDisposable : IDisposable
    {
        _resources.Add(value);
        return value;
    }

    public void Dispose()
    {
        foreach (var (session, binding) in _sessions.Values)
        {
            binding.Dispose();
            session.Dispose();
        }
        for (int i = _resources.Count - 1; i >= 0; i--) _resources[i].Dispose();
        _runOptions.Dispose();
    }
}
