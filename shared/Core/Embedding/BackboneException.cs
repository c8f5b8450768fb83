using Google.Protobuf;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Embedding;

/// <summary>A backbone file that cannot be prepared (missing, not ONNX, unknown layer names).</summary>
public sealed class BackboneException(string message, Exception? inner = null) : Diagnostics.UserFacingException(message, inner);
