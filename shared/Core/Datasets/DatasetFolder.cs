using System.Security.Cryptography;
using System.Text;
using EdgePatchCore.Imaging;

namespace EdgePatchCore.Datasets;

/// <summary>
/// A product's images: the MVTec AD layout (train/good, test/good, test/&lt;defect&gt;,
/// ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png) or a flat folder of good images (training only).
/// </summary>
public sealed class DatasetFolder
{
    public const string GoodType = "good";
    public string Root { get; }
    public bool IsMvtecLayout { get; }
    public IReadOnlyList<string> TrainingImages { get; }
    public IReadOnlyList<TestImage> TestImages { get; }

    private DatasetFolder(string root, bool mvtec, IReadOnlyList<string> train, IReadOnlyList<TestImage> test)
    {
        Root = root;
        IsMvtecLayout = mvtec;
        TrainingImages = train;
        TestImages = test;
    }

    public static DatasetFolder Open(string root)
    {
        if (!Directory.Exists(root)) throw new DatasetException($"data folder not found: {root}");
        string trainGood = Path.Combine(root, "train", GoodType);
        if (Directory.Exists(trainGood))
            return new DatasetFolder(root, true, ListFiles(trainGood), ListTestImages(root));
        // A flat folder: every file directly inside is a training candidate (bad ones are reported later).
        var files = ListFiles(root);
        return new DatasetFolder(root, false, files, []);
    }

    /// <summary>All files of a folder, sorted by name so runs are reproducible (hidden files ignored).</summary>
    private static List<string> ListFiles(string dir) => Directory.EnumerateFiles(dir)
        .Where(f => !Path.GetFileName(f).StartsWith('.'))
        .Order(StringComparer.Ordinal).ToList();

    private static List<TestImage> ListTestImages(string root)
    {
        string test = Path.Combine(root, "test");
        if (!Directory.Exists(test)) return [];
        var images = new List<TestImage>();
        foreach (var typeDir in Directory.EnumerateDirectories(test).Order(StringComparer.Ordinal))
        {
            string type = Path.GetFileName(typeDir);
            foreach (var file in ListFiles(typeDir).Where(ImageLoader.HasImageExtension))
            {
                string? mask = null;
                if (type != GoodType)
                {
                    string candidate = Path.Combine(root, "ground_truth", type, Path.GetFileNameWithoutExtension(file) + "_mask.png");
                    if (File.Exists(candidate)) mask = candidate;
                }
                images.Add(new TestImage(file, type, mask));
            }
        }
        return images;
    }

    /// <summary>SHA-256 over the given files' names and sizes: cheap, and changes when the data does.</summary>
    public static string Fingerprint(IEnumerable<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(f)));
            sha.AppendData(BitConverter.GetBytes(new FileInfo(f).Length));
        }
        return "sha256:" + Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant()[..16];
    }
}
