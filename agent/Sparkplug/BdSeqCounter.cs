namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// The birth/death sequence number (bdSeq, 0..255): one per MQTT session, carried by the session's NBIRTH
/// and by its NDEATH (the MQTT Will), so a host can tell which session a death belongs to. Kept in
/// {StateDirectory}/sparkplug/bdseq so that a restarted agent continues where the crashed one stopped.
/// </summary>
public sealed class BdSeqCounter(string directory)
{
    private readonly string _file = Path.Combine(directory, "bdseq");

    /// <summary>The bdSeq for a new session; the one after it is stored (atomically) before this returns.</summary>
    public long Next()
    {
        long current = 0;
        try
        {
            if (File.Exists(_file) && long.TryParse(File.ReadAllText(_file).Trim(), out long stored) && stored is >= 0 and <= 255) current = stored;
        }
        catch (IOException) { } // unreadable: start at 0, which a host treats as a new session
        Directory.CreateDirectory(directory);
        string temporary = _file + ".tmp";
        File.WriteAllText(temporary, ((current + 1) % 256).ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(temporary, _file, overwrite: true);
        return current;
    }
}
