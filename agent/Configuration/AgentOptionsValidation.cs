namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// The options checked by the host itself when it starts (<c>ValidateOnStart</c>), with the sentences of
/// <see cref="OptionsValidator"/> that `agent check-config` prints: a host built by any caller (the service, the demo,
/// tests) refuses a configuration the service would refuse. The features check their own parts beside it.
/// </summary>
public sealed class AgentOptionsValidation : OptionsChecks
{
    protected override void Check(AgentOptions options, Action<bool, string> check)
    {
        foreach (var problem in OptionsValidator.Validate(options)) check(false, problem);
    }
}
