using ModelBuild.Runtime.Torch.Cuda;
using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class CudaComputeCapabilityTests
{
    [TestMethod]
    [DataRow(9, 0, "9.0")]
    [DataRow(8, 6, "8.6")]
    [DataRow(12, 0, "12.0")]
    public void Format_IsMajorDotMinor(int major, int minor, string expected) =>
        Assert.AreEqual(expected, CudaComputeCapability.Format(major, minor));

    [TestMethod]
    public void Of_WithoutACudaDriver_IsNull()
    {
        if (NativeLibrary.TryLoad("libcuda.so.1", out var driver))
        {
            NativeLibrary.Free(driver);
            Assert.Inconclusive("This machine has a CUDA driver; the H200 run (docs/benchmarks.md) recorded 9.0 there.");
        }

        Assert.IsNull(CudaComputeCapability.Of(0));
    }
}
