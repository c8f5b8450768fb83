using System.Text.Json.Serialization;

namespace EdgePatchCore.Agent.Messages;

/// <summary>The model that judged a frame.</summary>
/// <param name="DerivedFrom">set only for a model extended on this device (Agent:Teach:OnDevice): the signed model it was derived from</param>
public sealed record VerdictModel(string Id, DateTime CreatedAt,
                                  [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DerivedFrom = null);
