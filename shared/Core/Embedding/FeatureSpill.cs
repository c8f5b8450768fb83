using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgePatchCore.Embedding;

/// <summary>
/// Full-dimension patch features parked on disk while the coreset is selected from their projections,
/// so memory holds N x 128 floats instead of N x D. The file is unlinked right after it is created:
/// it disappears when the handle closes, after success, failure, Ctrl-C or even kill -9.
/// </summary>
public sealed class FeatureSpill : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly int _dimensions;
    private long _rows;
    public long Rows => _rows;
    public string Path { get; }

    public FeatureSpill(string directory, int dimensions)
    {
        _dimensions = dimensions;
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, $"edgepatchcore-features-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        _handle = File.OpenHandle(Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None);
        if (!OperatingSystem.IsWindows()) File.Delete(Path); // the open handle keeps the data reachable
    }

    public void Append(ReadOnlySpan<float> rows)
    {
        RandomAccess.Write(_handle, MemoryMarshal.AsBytes(rows), _rows * _dimensions * sizeof(float));
        _rows += rows.Length / _dimensions;
    }

    /// <summary>Reads rows <paramref name="first"/>.. into <paramref name="destination"/> (whole rows).</summary>
    public void Read(long first, Span<float> destination)
    {
        var target = MemoryMarshal.AsBytes(destination);
        long offset = first * _dimensions * sizeof(float);
        int read = 0;
        while (read < target.Length)
        {
            int n = RandomAccess.Read(_handle, target[read..], offset + read);
            if (n <= 0) throw new IOException($"feature spill file ended early after row {first}");
            read += n;
        }
    }

    /// <summary>Reads the given rows, in the given order, into one array.</summary>
    public float[] Gather(IReadOnlyList<int> indices)
    {
        var result = new float[(long)indices.Count * _dimensions];
        for (int i = 0; i < indices.Count; i++) Read(indices[i], result.AsSpan(i * _dimensions, _dimensions));
        return result;
    }

    public void Dispose()
    {
        _handle.Dispose();
        if (OperatingSystem.IsWindows()) try { File.Delete(Path); } catch (IOException) { }
    }
}
