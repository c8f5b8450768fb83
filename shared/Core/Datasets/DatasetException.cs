using System.Text;

namespace EdgePatchCore.Datasets;

/// <summary>A data folder that cannot be used; the message is meant for the user.</summary>
public sealed class DatasetException(string message) : Diagnostics.UserFacingException(message);
