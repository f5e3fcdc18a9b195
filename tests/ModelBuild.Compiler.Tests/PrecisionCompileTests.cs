using ModelBuild.Engine.Container;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// Reduced precision: weights and float factories are cast, inputs and outputs stay F32 at the boundary. The tolerance
/// is the compiler's default for the precision (fp16 1e-2, bf16 5e-2): a half-precision matmul over 32-wide rows
/// rounds each product to about 3 significant digits.
/// </summary>
[TestClass]
public sealed class PrecisionCompileTests
{
    [TestMethod]
    [DataRow("mlp", "fp16", "F16")]
    [DataRow("mlp", "bf16", "BF16")]
    [DataRow("transformer_block", "bf16", "BF16")]
    public void Compile_AtReducedPrecision_ValidatesAndKeepsF32AtTheBoundary(string model, string precision, string weightDType)
    {
        var engine = ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(model, "model.pt2")) { Precision = precision });
        var file = EngineFile.Read(engine.Bytes, model, CompiledModel.RuntimeVersion);

        Assert.AreEqual(precision, engine.Manifest.Target.Precision);
        Assert.AreEqual("F32", engine.Manifest.Target.FloatBoundaryDType);
        Assert.IsTrue(file.Tensors.Tensors.Values.Where(t => t.Name.Contains("weight", StringComparison.Ordinal)).All(t => t.DType.ToString() == weightDType));
        using var compiled = CompiledModel.Load(engine.Bytes, model);
        using var scope = NewDisposeScope();
        var inputs = Validation.CaseInputs.Generate(engine.Manifest.Inputs, engine.Manifest.Symbols.ToDictionary(s => s.Key, s => s.Value.Opt), null, 3);
        Assert.IsTrue(compiled.Run(inputs).All(o => o.dtype == ScalarType.Float32));
    }
}
