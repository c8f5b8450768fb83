namespace EdgePatchCore.Diagnostics;

/// <summary>Where long-running library work reports what it is doing; the CLI draws progress bars from it.</summary>
public interface IReporter
{
    void Info(string message);
    void Warn(string message);
    /// <summary>Progress of a named stage; <paramref name="detail"/> is a short extra such as the coverage radius.</summary>
    void Progress(string stage, long done, long total, string? detail = null);
}

public sealed class NullReporter : IReporter
{
    public static readonly NullReporter Instance = new();
    public void Info(string message) { }
    public void Warn(string message) { }
    public void Progress(string stage, long done, long total, string? detail = null) { }
}
