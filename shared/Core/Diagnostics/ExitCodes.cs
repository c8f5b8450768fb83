namespace EdgePatchCore.Diagnostics;

/// <summary>The exit codes of every EdgePatchCore program (trainer, agent, demo).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The work failed (a bad file, a refused model); the agent: a failure stopped it (systemd restarts it).</summary>
    public const int Failure = 1;
    /// <summary>The command was called wrongly.</summary>
    public const int Usage = 2;
    /// <summary>EX_CONFIG: the configuration is wrong; systemd does not restart on it.</summary>
    public const int Configuration = 78;
    /// <summary>Stopped by Ctrl-C (128 + SIGINT); nothing was written.</summary>
    public const int Cancelled = 130;
}
