using MessagePack;

namespace EdgePatchCore.Embedding;

/// <summary>
/// The observed range of every activation tensor the int8 backbone quantizes (<see cref="BackboneQuantizer.CalibratedTensors"/>),
/// measured on training images at build time (<see cref="ActivationCalibrator"/>) and stored in the artifact.
/// </summary>
[MessagePackObject]
public sealed record ActivationRanges
{
    /// <summary>Tensor names of the prepared float graph.</summary>
    [Key(0)] public required string[] Tensors { get; init; }
    [Key(1)] public required float[] Min { get; init; }
    [Key(2)] public required float[] Max { get; init; }
    /// <summary>How many network inputs (images or tiles) the ranges were measured on.</summary>
    [Key(3)] public int Inputs { get; init; }

    public (float Min, float Max) this[string tensor]
    {
        get
        {
            int i = Array.IndexOf(Tensors, tensor);
            if (i < 0) throw new BackboneException($"no calibrated range for tensor '{tensor}'; rebuild the model");
            return (Min[i], Max[i]);
        }
    }
}
