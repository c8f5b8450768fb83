using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Hosting;

/// <summary>The agent needs a frame source: counts the <see cref="FrameSourceRegistration"/>s the source modules made (a new kind of source needs no
/// change here).</summary>
public sealed class SourceCountValidation(IEnumerable<FrameSourceRegistration> sources) : IValidateOptions<AgentOptions>
{
    public const string Problem =
        "no frame source configured: set Agent:Sources:Folder:Path, :Mqtt:Topic, :Mjpeg:Command, :Http:Url or :GenICam:Address";

    public ValidateOptionsResult Validate(string? name, AgentOptions options) =>
        sources.Any() ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(Problem);
}
