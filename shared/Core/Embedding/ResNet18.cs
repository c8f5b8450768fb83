namespace EdgePatchCore.Embedding;

/// <summary>Facts about the bundled backbone (Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, a CNTK export).</summary>
public static class ResNet18
{
    public const string Layer1 = "ReLU283_Output_0"; // 64 x 56 x 56
    public const string Layer2 = "ReLU315_Output_0"; // 128 x 28 x 28
    public const string Layer3 = "ReLU347_Output_0"; // 256 x 14 x 14
    public const string Layer4 = "ReLU379_Output_0"; // 512 x 7 x 7
    public static readonly string[] DefaultLayers = [Layer2, Layer3];

    public static string Resolve(string layer) => layer.ToLowerInvariant() switch
    {
        "layer1" => Layer1,
        "layer2" => Layer2,
        "layer3" => Layer3,
        "layer4" => Layer4,
        _ => layer,
    };

    /// <summary>The name a person knows a layer by ("layer2"), for an ONNX node name of the bundled graph; other names as they are.</summary>
    public static string DisplayName(string layer) => layer switch
    {
        Layer1 => "layer1",
        Layer2 => "layer2",
        Layer3 => "layer3",
        Layer4 => "layer4",
        _ => layer,
    };

    /// <summary>The model file copied next to the assemblies at build time from the NuGet package.</summary>
    public static string ModelPath => Path.Combine(AppContext.BaseDirectory, "Backbones", "ResNet18.onnx");
    public static string PreprocessPath => Path.Combine(AppContext.BaseDirectory, "Backbones", "ResNetPreprocess.onnx");
}
