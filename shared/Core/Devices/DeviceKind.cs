namespace EdgePatchCore.Devices;

/// <summary>Where ONNX Runtime executes: CUDA when asked and available, else the CPU.</summary>
public enum DeviceKind { Auto, Cpu, Cuda }
