using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>
/// Convolutions that libtorch 2.10's oneDNN kernels get wrong on some CPUs (the AMD EPYC of the development machine),
/// where alexnet_tiny's engine returned infinite elements now and then: run by the executor, they match fp64 and stay
/// finite and unchanged however the memory they are given was used before. Where oneDNN is right, they pass either
/// way.
/// </summary>
[TestClass]
public sealed class OneDnnConvolutionTests
{
    [TestMethod]
    public void ConvolutionOf24Channels_MatchesFp64_AndStaysTheSame_WhenRecycledMemoryHoldsNaN()
    {
        // alexnet_tiny's second convolution.
        AssertRightAndStable(Random(1, 24, 11, 11), Random(48, 24, 5, 5) * 0.1, padding: 2);
    }

    [TestMethod]
    public void PointwiseConvolutionOfAChannelsLastInput_MatchesFp64_AndStaysTheSame_WhenRecycledMemoryHoldsNaN()
    {
        // The 1x1 convolutions of ConvNeXt's and PoolFormer's MLPs, on a channels-last input.
        AssertRightAndStable(Random(8, 3, 3, 128).permute(0, 3, 1, 2), Random(512, 128, 1, 1) * 0.1, padding: 0);
    }

    private static void AssertRightAndStable(Tensor input, Tensor weight, long padding)
    {
        using var scope = NewDisposeScope();
        var node = new GraphNode("torch.ops.aten.conv2d.default", [T("input", "x"), T("weight", "w"), Is("padding", padding, padding)], [new TensorArg("y")]);
        var executor = new GraphExecutor([node], ["x"], ["y"], new Dictionary<string, Tensor> { ["w"] = weight }, [], CPU);
        var expected = F.conv2d(input.to(ScalarType.Float64), weight.to(ScalarType.Float64), null, [1, 1], [padding, padding]);

        var first = executor.Run([input])[0];

        AssertClose(expected, first.to(ScalarType.Float64), 1e-4, "first run");
        for (var run = 0; run < 5; run++)
        {
            RecycleNaN();
            var again = executor.Run([input])[0];
            Assert.AreEqual(0, again.isfinite().logical_not().sum().item<long>(), $"non-finite elements after run {run + 2}");
            Assert.AreEqual(0, again.ne(first).sum().item<long>(), $"elements of run {run + 2} that differ from the first");
        }
    }

    /// <summary>Leaves the memory that the allocator hands out next full of NaN bit patterns, as memory recycled from other data can be.</summary>
    private static void RecycleNaN()
    {
        // Freeing a block the allocator mapped on its own raises glibc's threshold for that, so the blocks below come
        // from the heap and go back to it, NaNs and all.
        using (empty(4L << 20))
        {
        }
        for (var count = 1L << 10; count <= 1L << 19; count <<= 1)
        {
            using var junk = full(count, float.NaN);
        }
    }
}
