using System.Text.Json;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tests.Cli;

namespace EdgePatchCore.Tests.Tiling;

/// <summary>
/// The synthetic megapixel product at its defaults (1600 x 1200, 10 training images, 12 good and 6 x 4 defective test
/// images), built both ways through the trainer's command line: the whole frame resized to 224 (the default) and
/// `--tile 224` with a 1% bank, the tiled one with the int8 backbone and again with the float32 one; all evaluated, their JSON
/// reports kept.
/// </summary>
public sealed class SheetFixture : IDisposable
{
    public TempFolder Folder { get; } = new();
    public string Data => Folder.File("sheet");
    public string Tiled => Folder.File("sheet-tiled.pcb");
    public string Whole => Folder.File("sheet-whole.pcb");
    public string TiledFloat => Folder.File("sheet-tiled-float32.pcb");
    public JsonElement TiledReport { get; }
    public JsonElement TiledFloatReport { get; }
    public JsonElement WholeReport { get; }

    public SheetFixture()
    {
        new SheetGenerator(new SheetOptions()).Write(Data);
        Run("build", "--product", "sheet", "--data", Data, "--out", Tiled, "--tile", "224", "--coreset", "0.01", "--device", "cpu",
            "--backbone-precision", "int8");
        Run("build", "--product", "sheet", "--data", Data, "--out", TiledFloat, "--tile", "224", "--coreset", "0.01", "--device", "cpu",
            "--backbone-precision", "float32");
        Run("build", "--product", "sheet", "--data", Data, "--out", Whole, "--device", "cpu");
        TiledReport = Evaluate(Tiled);
        WholeReport = Evaluate(Whole);
        TiledFloatReport = Evaluate(TiledFloat);
    }

    private JsonElement Evaluate(string artifact)
    {
        string json = Path.ChangeExtension(artifact, ".json");
        Run("evaluate", artifact, "--data", Data, "--json", json, "--device", "cpu");
        return JsonDocument.Parse(File.ReadAllBytes(json)).RootElement;
    }

    /// <summary>Runs the trainer; a failure fails the fixture with its error output.</summary>
    internal static void Run(params string[] args)
    {
        var r = TrainerRunner.Run(args);
        Assert.True(r.ExitCode == 0, $"trainer {string.Join(' ', args)}: {r.Error}");
    }

    public void Dispose() => Folder.Dispose();
}
