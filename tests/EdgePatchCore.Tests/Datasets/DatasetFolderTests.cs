using EdgePatchCore.Datasets;

namespace EdgePatchCore.Tests.Datasets;

public class DatasetFolderTests
{
    [Fact]
    public void Mvtec_layout_lists_train_good_and_labelled_test_images_with_masks()
    {
        using var dir = new TempFolder();
        foreach (var d in new[] { "train/good", "test/good", "test/crack", "ground_truth/crack" }) Directory.CreateDirectory(dir.File(d));
        File.WriteAllText(dir.File("train/good/b.png"), "");
        File.WriteAllText(dir.File("train/good/a.png"), "");
        File.WriteAllText(dir.File("test/good/g.png"), "");
        File.WriteAllText(dir.File("test/crack/c1.png"), "");
        File.WriteAllText(dir.File("test/crack/c2.png"), "");
        File.WriteAllText(dir.File("ground_truth/crack/c1_mask.png"), "");
        var ds = DatasetFolder.Open(dir.Path);
        Assert.True(ds.IsMvtecLayout);
        Assert.Equal(["a.png", "b.png"], ds.TrainingImages.Select(Path.GetFileName)); // sorted: reproducible
        Assert.Equal(3, ds.TestImages.Count);
        var c1 = ds.TestImages.Single(t => t.Path.EndsWith("c1.png"));
        Assert.True(c1.IsDefective);
        Assert.Equal("crack", c1.DefectType);
        Assert.EndsWith("c1_mask.png", c1.MaskPath);
        Assert.Null(ds.TestImages.Single(t => t.Path.EndsWith("c2.png")).MaskPath); // missing mask: reported later
        Assert.False(ds.TestImages.Single(t => t.DefectType == "good").IsDefective);
    }

    [Fact]
    public void Flat_folder_is_all_training_candidates_and_no_test_set()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("img1.jpg"), "");
        File.WriteAllText(dir.File("notes.txt"), "");   // kept as a candidate: the build reports it as unreadable
        File.WriteAllText(dir.File(".hidden.png"), ""); // hidden files are ignored
        var ds = DatasetFolder.Open(dir.Path);
        Assert.False(ds.IsMvtecLayout);
        Assert.Equal(["img1.jpg", "notes.txt"], ds.TrainingImages.Select(Path.GetFileName));
        Assert.Empty(ds.TestImages);
    }

    [Fact]
    public void Fingerprint_changes_when_a_file_changes()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("a.png"), "1234");
        var before = DatasetFolder.Fingerprint([dir.File("a.png")]);
        Assert.Equal(before, DatasetFolder.Fingerprint([dir.File("a.png")]));
        File.WriteAllText(dir.File("a.png"), "12345");
        Assert.NotEqual(before, DatasetFolder.Fingerprint([dir.File("a.png")]));
    }

    [Fact]
    public void Missing_folder_is_a_clear_error()
    {
        Assert.Contains("data folder not found", Assert.Throws<DatasetException>(() => DatasetFolder.Open("/no/such/folder")).Message);
    }
}
