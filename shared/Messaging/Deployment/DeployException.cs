using System.Threading.Channels;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Deployment;

/// <summary>Raised when a deployment is refused by the device or gets no answer.</summary>
public sealed class DeployException(string message) : UserFacingException(message);
