using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>Sym-floats and sym-bools follow Python, and the runtime assertions torch.export inserts check what they state.</summary>
[TestClass]
public sealed class SymbolicKernelTests
{
    private static readonly Dictionary<string, object> Values = new() { ["u0"] = 7L, ["f"] = 2.5, ["yes"] = true };

    private static object Sym(string target, Argument output, params Argument[] args) =>
        OpKernels.Invoke(new GraphNode(target, [.. args.Select((a, i) => new NamedArgument(((char)('a' + i)).ToString(), a))], [output]), n => Values[n])[0]!;

    private static readonly SymIntArg U0 = new(SymInt.Ref("u0"));
    private static readonly SymFloatArg F = new(null, "f");
    private static readonly SymBoolArg Out = new(null, "r");
    private static readonly SymFloatArg FloatOut = new(null, "r");
    private static readonly SymIntArg IntOut = new(SymInt.Ref("r"));

    [TestMethod]
    public void Comparisons_AreSymBools()
    {
        Assert.IsTrue((bool)Sym("_operator.ge", Out, U0, new IntArg(0)));
        Assert.IsFalse((bool)Sym("_operator.le", Out, U0, new IntArg(6)));
        Assert.IsTrue((bool)Sym("_operator.eq", Out, U0, new FloatArg(7.0)));
        Assert.IsTrue((bool)Sym("_operator.lt", Out, F, U0));
        Assert.IsFalse((bool)Sym("torch.sym_not", Out, new SymBoolArg(null, "yes")));
        Assert.IsTrue((bool)Sym("_operator.and_", Out, new SymBoolArg(null, "yes"), new SymBoolArg(true, null)));
        Assert.IsTrue((bool)Sym("_operator.gt", Out, U0, F));
        Assert.IsFalse((bool)Sym("_operator.ne", Out, U0, new IntArg(7)));
        Assert.IsTrue((bool)Sym("_operator.or_", Out, new SymBoolArg(false, null), new SymBoolArg(null, "yes")));
    }

    [TestMethod]
    public void Arithmetic_StaysIntUnlessAFloatTakesPart()
    {
        Assert.AreEqual(3.5, Sym("_operator.truediv", FloatOut, U0, new IntArg(2)));
        Assert.AreEqual(17.5, Sym("_operator.mul", FloatOut, U0, F));
        Assert.AreEqual(49L, Sym("_operator.pow", IntOut, U0, new IntArg(2)));
        Assert.AreEqual(-3.0, Sym("_operator.floordiv", FloatOut, new FloatArg(-5.0), new IntArg(2)));
        Assert.AreEqual(2L, Sym("torch.sym_int", IntOut, F));
        Assert.AreEqual(7L, Sym("torch.sym_max", IntOut, F, U0));
        Assert.AreEqual(2.5, Sym("torch.sym_ite", FloatOut, new SymBoolArg(false, null), U0, F));
        Assert.AreEqual(2.5, Sym("torch.sym_min", FloatOut, F, U0));
        Assert.AreEqual(7L, Sym("_operator.pos", IntOut, U0));
        Assert.AreEqual(7.0, Sym("torch.sym_float", FloatOut, U0));
        Assert.AreEqual(-2L, Sym("math.trunc", IntOut, new FloatArg(-2.5)));
        Assert.AreEqual(Math.Sqrt(7), Sym("torch.sym_sqrt", FloatOut, U0));
    }

    [TestMethod]
    [DataRow("aten._assert_async.msg")]
    [DataRow("aten._assert_async.default")]
    public void AssertAsync_ChecksTheTensorsTruth(string target)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, object> { ["yes"] = tensor(1f), ["no"] = tensor(false) };
        GraphNode Assertion(string name) => new(Full(target), [T("self", name), .. target.EndsWith(".msg", StringComparison.Ordinal) ? [S("assert_msg", "x must be positive")] : Array.Empty<NamedArgument>()], []);

        Assert.IsEmpty(OpKernels.Invoke(Assertion("yes"), n => values[n]));
        var e = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(Assertion("no"), n => values[n]));

        Assert.AreEqual(DiagnosticCodes.RuntimeAssertionFailed, e.Code);
        StringAssert.Contains(e.Message, target.EndsWith(".msg", StringComparison.Ordinal) ? "x must be positive" : "assertion failed");
    }

    [TestMethod]
    public void Item_IsTheSymValueOfTheTensorsKind()
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, object> { ["i"] = tensor(new long[] { 5 }), ["x"] = tensor(0.25f), ["b"] = tensor(true) };
        object Item(string name, Argument output) => OpKernels.Invoke(new GraphNode("torch.ops.aten.item.default", [T("self", name)], [output]), n => values[n])[0]!;

        Assert.AreEqual(5L, Item("i", IntOut));
        Assert.AreEqual(0.25, Item("x", FloatOut));
        Assert.IsTrue((bool)Item("b", Out));
    }

    [TestMethod]
    public void AssertScalar_PassesWhenTrue_AndFailsWithMB5007NamingTheCondition()
    {
        GraphNode Assertion(bool? literal) => new("torch.ops.aten._assert_scalar.default",
            [new NamedArgument("self", new SymBoolArg(literal, literal is null ? "le_1" : null)), S("assert_msg", "Runtime assertion failed for expression u0 <= 16 on node 'le_1'")], []);

        Assert.IsEmpty(OpKernels.Invoke(Assertion(true), _ => throw new InvalidOperationException()));
        var e = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(Assertion(null), _ => false));

        Assert.AreEqual(DiagnosticCodes.RuntimeAssertionFailed, e.Code);
        StringAssert.Contains(e.Message, "u0 <= 16");
        StringAssert.Contains(e.Message, "on le_1");
    }

    [TestMethod]
    [DataRow("aten.sym_constrain_range.default", 3L, 0L, 4L, true)]
    [DataRow("aten.sym_constrain_range.default", 5L, 0L, 4L, false)]
    [DataRow("aten.sym_constrain_range_for_size.default", -1L, null, 8L, false)]
    [DataRow("aten.sym_constrain_range_for_size.default", 0L, null, null, true)]
    public void ConstrainRange_ChecksTheValue(string target, long value, long? min, long? max, bool holds)
    {
        var node = new GraphNode(Full(target),
            [new NamedArgument("size", new SymIntArg(SymInt.Ref("v"))), .. min is { } lo ? [Kw("min", new IntArg(lo))] : Array.Empty<NamedArgument>(),
             .. max is { } hi ? [Kw("max", new IntArg(hi))] : Array.Empty<NamedArgument>()], []);

        if (holds)
        {
            Assert.IsEmpty(OpKernels.Invoke(node, _ => value));
            return;
        }
        var e = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(node, _ => value));
        Assert.AreEqual(DiagnosticCodes.RuntimeAssertionFailed, e.Code);
        StringAssert.Contains(e.Message, $"{value} is outside the range");
    }

    [TestMethod]
    public void AssertTensorMetadata_ChecksDtypeAndSizes()
    {
        using var scope = NewDisposeScope();
        var x = zeros(2, 3);
        GraphNode Check(Engine.Safetensors.TensorDType dtype, params long[] size) => new("torch.ops.aten._assert_tensor_metadata.default",
            [T("a", "x"), Kw("size", new IntsArg(size)), Kw("dtype", new ScalarTypeArg(ExportScalarTypes.ToCode(dtype)))], []);

        Assert.IsEmpty(OpKernels.Invoke(Check(Engine.Safetensors.TensorDType.F32, 2, 3), _ => x));
        var dtype = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(Check(Engine.Safetensors.TensorDType.BF16, 2, 3), _ => x));
        var size = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(Check(Engine.Safetensors.TensorDType.F32, 3, 2), _ => x));

        Assert.AreEqual(DiagnosticCodes.TensorMetadataMismatch, dtype.Code);
        StringAssert.Contains(dtype.Message, "BFloat16");
        StringAssert.Contains(size.Message, "recorded [3, 2]");
    }
}
