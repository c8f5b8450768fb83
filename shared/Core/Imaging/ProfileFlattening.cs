namespace EdgePatchCore.Imaging;

/// <summary>
/// Which line profile of a directional texture a whole-frame view flattens (docs/TILING.md, "Flattening a brushed surface"):
/// none, the rows' (a texture that runs along the rows: brushing, rolling, extrusion along x) or the columns'.
/// </summary>
public enum ProfileFlattening
{
    Off = 0,
    Rows = 1,
    Columns = 2,
}
