namespace EdgePatchCore.Search;

/// <summary>Choices the search factory makes by itself, made explicit for tests.</summary>
/// <param name="Int8SelectionInGraph">Pick int8 candidates in the graph (as on CUDA) rather than in managed code.</param>
/// <param name="ConstantBankLimit">Int8 on the CPU: the largest bank (bytes) made a constant of the graph; a
/// larger one is bound as an input (an ONNX model, the constant included, must stay below 2 GB).</param>
/// <param name="ReducedQueryRange">Int8 on the CPU: 7-bit queries (x86 without VNNI) rather than 8-bit.</param>
/// <param name="RequireDeviceForEveryNode">On CUDA: fail to load a graph that ONNX Runtime would run partly on the
/// CPU (a node without a CUDA kernel), instead of running it there with copies in between.</param>
internal sealed record SearchTuning(bool? Int8SelectionInGraph = null, long ConstantBankLimit = 1L << 30, bool? ReducedQueryRange = null,
    bool RequireDeviceForEveryNode = false);
