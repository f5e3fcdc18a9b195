using ModelBuild.Engine.Graph;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>Python's <c>&amp;</c>, <c>|</c>, <c>^</c> on tensors and <c>diff</c>, which HF transformers use to build attention masks.</summary>
[TestClass]
public sealed class BitwiseAndDiffKernelTests
{
    private static readonly long[] Left = [12, 10, 0, -1, 7];
    private static readonly long[] Right = [10, 6, 5, 3, 7];

    [TestMethod]
    [DataRow("__and__")]
    [DataRow("__or__")]
    [DataRow("__xor__")]
    public void TensorOverload_OnInts_IsBitwise_AndOnBools_IsLogical(string op)
    {
        using var scope = NewDisposeScope();
        Func<long, long, long> expected = Reference(op);

        var ints = Op($"aten.{op}.Tensor", [tensor(Left), tensor(Right)], T("self", "x"), T("other", "y"));
        CollectionAssert.AreEqual(Left.Zip(Right, expected).ToArray(), ints.data<long>().ToArray(), op);

        bool[] p = [true, true, false, false];
        bool[] q = [true, false, true, false];
        var bools = Op($"aten.{op}.Tensor", [tensor(p), tensor(q)], T("self", "x"), T("other", "y"));
        Assert.AreEqual(ScalarType.Bool, bools.dtype);
        CollectionAssert.AreEqual(p.Zip(q, (a, b) => expected(a ? 1 : 0, b ? 1 : 0) != 0).ToArray(), bools.data<bool>().ToArray(), op);
    }

    [TestMethod]
    [DataRow("__and__")]
    [DataRow("__or__")]
    [DataRow("__xor__")]
    public void ScalarOverload_KeepsTheTensorsIntType_AndBoolWithBoolStaysBool(string op)
    {
        using var scope = NewDisposeScope();
        Func<long, long, long> expected = Reference(op);

        var ints = Op($"aten.{op}.Scalar", [tensor(Left.Select(v => (int)v).ToArray())], T("self", "x"), new NamedArgument("other", new IntArg(6)));
        Assert.AreEqual(ScalarType.Int32, ints.dtype);
        CollectionAssert.AreEqual(Left.Select(v => (int)expected(v, 6)).ToArray(), ints.data<int>().ToArray(), op);

        var bools = Op($"aten.{op}.Scalar", [tensor(new[] { true, false })], T("self", "x"), B("other", true));
        Assert.AreEqual(ScalarType.Bool, bools.dtype);
        CollectionAssert.AreEqual(new[] { expected(1, 1) != 0, expected(0, 1) != 0 }, bools.data<bool>().ToArray(), op);
    }

    [TestMethod]
    public void Diff_Defaults_AreFirstOrderAlongTheLastDim()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new long[] { 1, 4, 9, 16, 2, 3, 5, 8 }, [2, 4]);

        var d = Op("aten.diff.default", x, T("self", "x"));

        CollectionAssert.AreEqual(new long[] { 2, 3 }, d.shape);
        CollectionAssert.AreEqual(new long[] { 3, 5, 7, 1, 2, 3 }, d.data<long>().ToArray());
    }

    [TestMethod]
    public void Diff_WithOrderDimPrependAndAppend_MatchesRepeatedDifferencesOfTheJoinedTensor()
    {
        using var scope = NewDisposeScope();
        float[,] x = { { 1, 2 }, { 4, 8 }, { 9, 18 } };
        float[,] before = { { 0, 0 } };
        float[,] after = { { 16, 32 } };
        // Joined along dim 0, the first column is 0, 1, 4, 9, 16 and the second doubles it.
        float[] joined = [0, 1, 4, 9, 16];
        var first = joined.Zip(joined.Skip(1), (a, b) => b - a).ToArray();
        var second = first.Zip(first.Skip(1), (a, b) => b - a).ToArray();

        var d = Op("aten.diff.default", [tensor(x), tensor(before), tensor(after)],
            T("self", "x"), I("n", 2), I("dim", 0), T("prepend", "y"), T("append", "z"));

        CollectionAssert.AreEqual(new long[] { second.Length, 2 }, d.shape);
        CollectionAssert.AreEqual(second.SelectMany(v => new[] { v, 2 * v }).ToArray(), d.data<float>().ToArray());
    }

    [TestMethod]
    public void Diff_OfOrderZero_IsItsInput()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 3f, 1f, 4f });

        var d = Op("aten.diff.default", [x, tensor(new[] { 9f })], T("self", "x"), I("n", 0), T("prepend", "y"));

        CollectionAssert.AreEqual(new[] { 3f, 1f, 4f }, d.data<float>().ToArray());
    }

    [TestMethod]
    public void Diff_OfBools_IsTrueWhereNeighboursDiffer()
    {
        using var scope = NewDisposeScope();
        bool[] x = [true, true, false, true, true];

        var d = Op("aten.diff.default", tensor(x), T("self", "x"));

        Assert.AreEqual(ScalarType.Bool, d.dtype);
        CollectionAssert.AreEqual(x.Zip(x.Skip(1), (a, b) => a != b).ToArray(), d.data<bool>().ToArray());
    }

    private static Func<long, long, long> Reference(string op) => op switch
    {
        "__and__" => (a, b) => a & b,
        "__or__" => (a, b) => a | b,
        _ => (a, b) => a ^ b,
    };
}
