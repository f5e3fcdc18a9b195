using ModelBuild.Diagnostics;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class TorchScriptOutputsTests
{
    [TestMethod]
    public void Flatten_ATupleOfTensors_KeepsTheirOrder()
    {
        using var a = zeros(1);
        using var b = ones(2);

        var outputs = TorchScriptOutputs.Flatten((a, b));

        Assert.AreSame(a, outputs[0]);
        Assert.AreSame(b, outputs[1]);
    }

    [TestMethod]
    public void Flatten_ATensor_IsTheOnlyOutput()
    {
        using var a = zeros(3);

        CollectionAssert.AreEqual(new[] { a }, TorchScriptOutputs.Flatten(a));
    }

    [TestMethod]
    public void Flatten_AnythingElse_IsRefusedWithACode()
    {
        using var a = zeros(1);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => TorchScriptOutputs.Flatten((a, "label")));

        Assert.AreEqual(DiagnosticCodes.TorchScriptOutputUnsupported, e.Code);
        StringAssert.Contains(e.Message, "ValueTuple");
    }
}
