namespace EdgePatchCore.Agent.ModelStore;

/// <summary>A model that will not be served; the message says why (for the log, the event and `trainer deploy`).</summary>
public sealed class ModelRefusedException(string message, Exception? inner = null) : Diagnostics.UserFacingException(message, inner);
