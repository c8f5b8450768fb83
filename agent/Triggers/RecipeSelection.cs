namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// The recipe (product) the line runs now, set by {prefix}/recipe: the model that scores a camera's frames when their trigger names none
/// (every hardware-line trigger, and messages without a recipe). Every configured model is loaded already, so a switch has no gap.
/// </summary>
public sealed class RecipeSelection
{
    private volatile string? _current;

    /// <summary>Null: the camera's configured Product.</summary>
    public string? Current => _current;

    public void Select(string? recipe) => _current = recipe;
}
