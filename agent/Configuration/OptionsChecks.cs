using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// A feature's own checks of the configuration, registered by its Add... module: one plain sentence per problem, run by
/// the host at start-up (ValidateOnStart) and by `agent check-config` with the others.
/// </summary>
public abstract class OptionsChecks : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options) =>
        Problems(options) is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;

    public List<string> Problems(AgentOptions options)
    {
        var problems = new List<string>();
        Check(options, (ok, problem) => { if (!ok) problems.Add(problem); });
        return problems;
    }

    /// <summary>Calls <paramref name="check"/> with each condition and the sentence that says what is wrong when it is false.</summary>
    protected abstract void Check(AgentOptions options, Action<bool, string> check);
}
