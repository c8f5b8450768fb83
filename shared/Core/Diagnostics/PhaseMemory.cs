namespace EdgePatchCore.Diagnostics;

/// <summary>
/// The peak resident memory of the process over one phase of long work. On Linux the kernel keeps the high-water mark
/// (VmHWM in /proc/self/status) and lets the process reset it to the current size (writing 5 to /proc/self/clear_refs),
/// so each phase's peak is its own, not the largest of the phases before it. Elsewhere, or where the reset is refused,
/// the process's peak so far stands in (never below the phase's own).
/// </summary>
public sealed class PhaseMemory
{
    private const string Status = "/proc/self/status", ClearRefs = "/proc/self/clear_refs";
    private bool _resettable = OperatingSystem.IsLinux();

    /// <summary>Starts a phase: the high-water mark drops to the memory in use now.</summary>
    public void Start()
    {
        if (!_resettable) return;
        try { File.WriteAllText(ClearRefs, "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _resettable = false; }
    }

    /// <summary>The peak resident bytes since <see cref="Start"/> (or since the process began, where it cannot reset).</summary>
    public long Peak()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                foreach (var line in File.ReadLines(Status))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                        && long.TryParse(line[6..].Trim().Split(' ')[0], out long kib)) return kib * 1024;
            }
            catch (IOException) { }
        }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
