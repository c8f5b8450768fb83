using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Trust;

/// <summary>How a model reached the agent: its own file (start-up, file change), `trainer deploy`, or an operator's signed rollback.</summary>
public enum ModelOrigin { File, OverTheAir, AuthorisedRollback, DerivedOnDevice }
