namespace ModelBuild.Lowering.Onnx;

/// <summary>A rule met something it has no ONNX form for; the message says what, for inspection and the partitioner.</summary>
internal sealed class NotLowerableException(string reason) : Exception(reason);
