using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>
/// Matrix products whose operands do not fit, as a hostile or damaged plan can give them, are a coded error (MB2904)
/// naming the node and the shapes, never an abort: TorchSharp's matmul does not catch libtorch's c10::Error, so an
/// abort would end this test host (the plan-run fuzz target found it, docs/reliability.md).
/// </summary>
[TestClass]
public sealed class MismatchedOperandTests
{
    public static IEnumerable<object[]> MismatchedProducts =>
    [
        ["aten.mm.default", new long[] { 12, 8 }, new long[] { 16, 16 }, new[] { T("self", "x"), T("mat2", "y") }],
        ["aten.bmm.default", new long[] { 2, 3, 4 }, new long[] { 2, 5, 6 }, new[] { T("self", "x"), T("mat2", "y") }],
        ["aten.bmm.default", new long[] { 2, 3, 4 }, new long[] { 3, 4, 6 }, new[] { T("self", "x"), T("mat2", "y") }],
        ["aten.addmm.default", new long[] { 3 }, new long[] { 2, 4 }, new[] { T("self", "x"), T("mat1", "y"), T("mat2", "y") }],
        ["aten.linear.default", new long[] { 2, 8 }, new long[] { 4, 16 }, new[] { T("input", "x"), T("weight", "y") }],
        ["aten.matmul.default", new long[] { 12, 8 }, new long[] { 16, 16 }, new[] { T("self", "x"), T("other", "y") }],
        ["aten.matmul.default", new long[] { 8 }, new long[] { 7 }, new[] { T("self", "x"), T("other", "y") }],
        ["aten.matmul.default", new long[] { 3, 2, 4 }, new long[] { 5, 4, 2 }, new[] { T("self", "x"), T("other", "y") }],
        ["aten.matmul.default", new long[] { 2, 4 }, new long[] { 5, 3 }, new[] { T("self", "x"), T("other", "y") }],
        ["aten.matmul.default", new long[] { }, new long[] { 4 }, new[] { T("self", "x"), T("other", "y") }],
    ];

    [TestMethod]
    [DynamicData(nameof(MismatchedProducts))]
    public void AProductOfOperandsThatDoNotFit_IsACodedError(string target, long[] left, long[] right, NamedArgument[] args)
    {
        using var x = zeros(left);
        using var y = zeros(right);

        var error = Assert.ThrowsExactly<ModelBuildException>(() => Op(target, [x, y], args));

        Assert.AreEqual(DiagnosticCodes.KernelFailed, error.Code, error.Message);
        StringAssert.Contains(error.Message, $"[{string.Join(", ", left)}]");
    }

    [TestMethod]
    public void Matmul_OfDifferentDTypesOrBools_IsACodedError()
    {
        using var floats = zeros(2, 2);
        using var doubles = zeros(2, 2, ScalarType.Float64);
        using var bools = zeros(2, 2, ScalarType.Bool);

        foreach (var (left, right) in new[] { (floats, doubles), (bools, bools) })
        {
            var error = Assert.ThrowsExactly<ModelBuildException>(() => Op("aten.matmul.default", [left, right], T("self", "x"), T("other", "y")));
            Assert.AreEqual(DiagnosticCodes.KernelFailed, error.Code, error.Message);
        }
    }

    [TestMethod]
    public void Matmul_OfOperandsThatFit_StillRunsEveryForm()
    {
        foreach (var (left, right) in new (long[], long[])[] { ([4], [4]), ([3, 4], [4]), ([4], [4, 5]), ([2, 1, 3, 4], [5, 4, 6]), ([2, 3, 4], [4]) })
        {
            using var x = Random(left);
            using var y = Random(right);
            using var expected = x.matmul(y);

            using var actual = Op("aten.matmul.default", [x, y], T("self", "x"), T("other", "y"));

            AssertClose(expected, actual);
        }
        using var ints = ones(2, 3, ScalarType.Int64);
        using var intProduct = Op("aten.matmul.default", [ints, ints.t()], T("self", "x"), T("other", "y"));
        Assert.AreEqual(3L, intProduct[0, 0].item<long>());
    }
}
