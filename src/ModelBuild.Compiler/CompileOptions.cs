using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;

namespace ModelBuild.Compiler;

/// <summary>What <c>modelc compile</c> was asked for.</summary>
public sealed record CompileOptions(string ModelPath)
{
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>fp32, fp16 or bf16.</summary>
    public string Precision { get; init; } = "fp32";

    public IReadOnlyList<ShapeOption> Shapes { get; init; } = [];

    /// <summary>The engine's name; the model file's when null.</summary>
    public string? Name { get; init; }

    /// <summary>The bound on the validation's scaled error (see <see cref="OutputComparison"/>); per precision when null (fp32 1e-4, fp16 1e-2, bf16 5e-2).</summary>
    public double? Tolerance { get; init; }

    /// <summary>auto (build every candidate, keep the fastest at opt), torch, or onnxruntime (ONNX Runtime where it lowers, TorchSharp for the rest).</summary>
    public string Backend { get; init; } = "auto";

    /// <summary>The fewest compute nodes a block of a preferred backend may have; smaller ones run on the fallback.</summary>
    public int MinBlockSize { get; init; } = 3;

    /// <summary>Operator targets that run on TorchSharp whatever the backend (<c>aten.softmax</c>: every overload).</summary>
    public IReadOnlyCollection<string> TorchExecutedOps { get; init; } = [];

    /// <summary>A cases.safetensors file whose cases the engine must also reproduce.</summary>
    public string? CasesPath { get; init; }

    /// <summary>What validation requires of the engine's outputs: the tolerance given, or the precision's criteria.</summary>
    public ValidationCriteria Criteria => ValidationCriteria.For(Precision, Tolerance);
}
