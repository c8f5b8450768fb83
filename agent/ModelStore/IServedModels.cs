namespace EdgePatchCore.Agent.ModelStore;

/// <summary>What publishing sees of the served models: their summaries, when the first load is done, and when they change (read only).</summary>
public interface IServedModels
{
    IReadOnlyList<ModelSummary> Snapshot();
    /// <summary>Completes once every configured artifact has been tried once.</summary>
    Task InitialLoad { get; }
    /// <summary>Raised after a model was swapped in.</summary>
    event Action? Changed;
}
