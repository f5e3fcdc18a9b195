using System.Runtime.CompilerServices;
using ModelBuild.Diagnostics;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>A TorchScript forward's result as a model's outputs, for the runtime and for the compiler's validation alike.</summary>
public static class TorchScriptOutputs
{
    /// <summary>A tensor, or a tuple or list of tensors, in order; anything else is refused with a code.</summary>
    public static Tensor[] Flatten(object result) => result switch
    {
        Tensor t => [t],
        Tensor[] ts => ts,
        ITuple tuple when Enumerable.Range(0, tuple.Length).All(i => tuple[i] is Tensor) =>
            [.. Enumerable.Range(0, tuple.Length).Select(i => (Tensor)tuple[i]!)],
        _ => throw new ModelBuildException(DiagnosticCodes.TorchScriptOutputUnsupported,
            $"the TorchScript module returned {result?.GetType().Name ?? "null"}; ModelBuild supports a tensor, a tuple or a list of tensors."),
    };
}
