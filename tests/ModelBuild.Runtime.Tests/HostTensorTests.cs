using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Runtime.Tests;

/// <summary>A host tensor receives the values a model writes into its input.</summary>
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
}
