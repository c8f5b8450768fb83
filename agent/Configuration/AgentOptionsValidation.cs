using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// The options checked by the host itself when it starts (<c>ValidateOnStart</c>), with the sentences of
/// <see cref="OptionsValidator"/> that `agent check-config` prints: a host built by any caller (the service, the demo,
/// tests) refuses a configuration the service would refuse.
/// </summary>
public sealed class AgentOptionsValidation : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var problems = OptionsValidator.Validate(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
