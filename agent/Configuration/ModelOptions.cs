namespace EdgePatchCore.Agent.Configuration;

public sealed class ModelOptions
{
    public string Artifact { get; set; } = "";
    /// <summary>The product this slot serves; when set, a model for another product is refused here. Names the slot for `trainer deploy
    /// --slot`.</summary>
    public string? Product { get; set; }
    /// <summary>Overrides the artifact's calibrated threshold on this device.</summary>
    public double? Threshold { get; set; }
}
