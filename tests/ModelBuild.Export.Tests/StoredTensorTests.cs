using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Export.Tests;

[TestClass]
public sealed class StoredTensorTests
{
    [TestMethod]
    public void ToContiguous_OfATransposedViewWithOffset_GivesRowMajorBytes()
    {
        // Storage holds a 2x3 matrix after one padding element; the tensor is its 3x2 transpose (strides 1, 3).
        var storage = new byte[] { 99, 1, 2, 3, 4, 5, 6 };
        var view = new StoredTensor(TensorDType.U8, [3, 2], [1, 3], 1);

        var bytes = view.ToContiguous(storage, "t", "file");

        CollectionAssert.AreEqual(new byte[] { 1, 4, 2, 5, 3, 6 }, bytes.ToArray());
    }

    [TestMethod]
    public void ToContiguous_OfAContiguousTensor_ReturnsTheStorageWithoutCopying()
    {
        var storage = new byte[] { 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 };
        var view = new StoredTensor(TensorDType.I32, [2], [1], 1);

        var bytes = view.ToContiguous(storage, "t", "file");

        Assert.IsTrue(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment));
        Assert.AreSame(storage, segment.Array);
        Assert.AreEqual(4, segment.Offset);
    }
}
