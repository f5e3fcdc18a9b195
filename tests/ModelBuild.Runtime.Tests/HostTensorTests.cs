using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Runtime.Tests;

/// <summary>A host tensor receives the values a model writes into its input; memory it shares is released once, by its last sharer.</summary>
[TestClass]
public sealed class HostTensorTests
{
    [TestMethod]
    public void CopyFrom_WritesTheValuesIntoTheTensorsOwnMemory()
    {
        var data = new float[] { 1, 2, 3, 4 };
        var input = HostTensor.Wrap(data, 2, 2);

        input.CopyFrom(HostTensor.From<float>([5, 6, 7, 8], 2, 2));

        CollectionAssert.AreEqual(new float[] { 5, 6, 7, 8 }, data, "the caller's array holds the new values");
    }

    [TestMethod]
    public void CopyFrom_RefusesAnotherShapeOrDtype()
    {
        var input = HostTensor.Zeros(TensorDType.F32, 2, 2);

        Assert.ThrowsExactly<ArgumentException>(() => input.CopyFrom(HostTensor.Zeros(TensorDType.F32, 4)));
        Assert.ThrowsExactly<ArgumentException>(() => input.CopyFrom(HostTensor.Zeros(TensorDType.F64, 2, 2)));
    }

    [TestMethod]
    public void Share_OfBorrowedMemory_ReleasesItOnceAfterTheLastSharer()
    {
        var owner = new CountingOwner();
        var first = HostTensor.Over(TensorDType.F32, [2], new byte[8], owner);
        var second = (HostTensor)first.Share();
        var third = (HostTensor)second.Share();

        first.Dispose();
        first.Dispose();
        third.Dispose();
        Assert.AreEqual(0, owner.Disposals, "a sharer still holds the memory");
        second.Dispose();
        Assert.AreEqual(1, owner.Disposals);
    }

    [TestMethod]
    public void Share_OfOwnMemory_AliasesTheElements()
    {
        var data = new float[] { 1, 2 };
        var shared = (HostTensor)HostTensor.Wrap(data, 2).Share();

        data[1] = 5;

        CollectionAssert.AreEqual(new float[] { 1, 5 }, shared.ToArray<float>());
    }

    private sealed class CountingOwner : IDisposable
    {
        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;
    }
}
