namespace EdgePatchCore.Trainer.Cli;

/// <summary>
/// One option a command accepts: `--name VALUE` or a flag `--name`. <paramref name="Default"/> is what --help shows;
/// when it is a value (a number, a word the option accepts), it is also the value the command reads when the option
/// is not given (<see cref="CommandLine.Int"/>, <see cref="CommandLine.Double"/>, <see cref="CommandLine.Text"/>,
/// <see cref="CommandLine.Parsed{T}"/>), so help and behaviour cannot disagree. A default that depends on other
/// options ("the preset's", "P.pcb") is described there and computed by the command.
/// </summary>
public sealed record OptionSpec(string Name, string Help, string? ValueName = null, string? Default = null)
{
    public bool IsFlag => ValueName is null;
}
