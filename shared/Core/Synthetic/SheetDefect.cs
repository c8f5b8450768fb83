namespace EdgePatchCore.Synthetic;

/// <summary>Defect types of the machined sheet; all of them are 3 to 40 pixels across.</summary>
public enum SheetDefect { None, Pit, Scratch, Stain, Burr }
