using ModelBuild.Compiler.Passes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// Reduced precision: weights and float factories are cast (but for those only fp32 islands read), inputs and outputs
/// stay F32 at the boundary. The tolerance
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
        var nodes = file.Plan.Blocks.SelectMany(b => b.Nodes ?? []).ToList();
        bool OnlyLayerNormsRead(SafetensorsEntry t) => nodes.Where(n => n.Reads().Contains(t.Name)).All(n => n.Target == "torch.ops.aten.layer_norm.default");
        var floats = file.Tensors.Tensors.Values.Where(t => t.DType is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16).ToList();
        Assert.IsTrue(floats.Where(t => !OnlyLayerNormsRead(t)).All(t => t.DType.ToString() == weightDType));
        Assert.IsTrue(floats.Where(OnlyLayerNormsRead).All(t => t.DType == TensorDType.F32), "weights only layer norms (fp32 islands) read stay F32");
        using var compiled = CompiledModel.Load(engine.Bytes, model);
        using var scope = NewDisposeScope();
        var inputs = CaseInputs.Generate(engine.Manifest.Inputs, engine.Manifest.Symbols.ToDictionary(s => s.Key, s => s.Value.Opt), null, 3);
        Assert.IsTrue(compiled.Run(inputs).All(o => o.dtype == ScalarType.Float32));
    }

    /// <summary>
    /// multi_io returns softmax(s) and (x * 2).sum(dim=1): both come out of fp32 islands. The sum's error is then only
    /// the rounding of its fp16 input (max abs error 0.0085 at the max case); the whole-graph fp16 lowering rounded the
    /// sums themselves to fp16 as well, and erred by 0.0164.
    /// </summary>
    [TestMethod]
    public void Compile_AtFp16_KeepsTheIslandsOutputsInFp32_AndErrsLessThanTheWholeGraphLowering()
    {
        var engine = ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture("multi_io", "model.pt2")) { Precision = "fp16", Backend = "torch" });

        var criteria = ValidationCriteria.For("fp16", null);
        Assert.IsTrue(engine.Manifest.Validation.All(v => v.ScaledError <= criteria.Tolerance && v.CosineSimilarity >= criteria.MinCosine));
        Assert.IsLessThan(0.012, engine.Manifest.Validation.Max(v => v.MaxAbsError));
    }
}
