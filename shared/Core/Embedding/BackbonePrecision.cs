namespace EdgePatchCore.Embedding;

/// <summary>How the backbone's convolutions run (docs/design.md, "The int8 backbone").</summary>
public enum BackbonePrecision
{
    /// <summary>The network as exported: every convolution in float32.</summary>
    Float32 = 0,
    /// <summary>
    /// Static QDQ quantization: int8 weights with one scale per output channel, uint8 activations with the ranges
    /// calibrated on the training images (<see cref="ActivationRanges"/>); ONNX Runtime fuses each
    /// DequantizeLinear, Conv, QuantizeLinear group into one integer convolution (<see cref="BackboneQuantizer"/>).
    /// </summary>
    Int8 = 1,
    /// <summary>Int8 where the CPU has int8 dot products, else float32: see <see cref="BackbonePrecisions.Resolve"/>.</summary>
    Auto = 2,
}
