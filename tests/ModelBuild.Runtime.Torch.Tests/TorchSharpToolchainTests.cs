using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>
/// TorchSharp loads here with no environment variable (the build patched libLibTorchSharp.so) and computes what
/// PyTorch computed.
/// </summary>
[TestClass]
public sealed class TorchSharpToolchainTests
{
    [TestMethod]
    public void Matmul_ComputesTheProduct()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        using var b = tensor(new float[] { 7, 8, 9, 10, 11, 12 }, [3, 2]);

        using var c = a.matmul(b);

        CollectionAssert.AreEqual(new float[] { 58, 64, 139, 154 }, c.data<float>().ToArray());
    }

    [TestMethod]
    public void JitLoad_OfTheMlpFixture_MatchesPyTorchOnEveryCase()
    {
        var cases = SafetensorsFile.Read(TestPaths.Fixture("mlp", "cases.safetensors"));
        using var module = jit.load(TestPaths.Fixture("mlp", "model.ts.pt"));
        module.eval();
        var names = cases.Tensors.Keys.Where(k => k.EndsWith(".in.0", StringComparison.Ordinal)).Select(k => k[..^5]).ToList();
        Assert.IsGreaterThanOrEqualTo(3, names.Count, "cases: min, opt, max at least");

        foreach (var name in names)
        {
            using var scope = NewDisposeScope();
            var input = cases.ToTensor($"{name}.in.0");
            var expected = cases.ToTensor($"{name}.out.0");

            var actual = (Tensor)module.forward(input);

            CollectionAssert.AreEqual(expected.shape, actual.shape, name);
            var maxAbs = (actual - expected).abs().max().item<float>();
            Assert.IsLessThan(1e-4f, maxAbs, $"case {name}: max abs error {maxAbs}");
        }
    }
}
