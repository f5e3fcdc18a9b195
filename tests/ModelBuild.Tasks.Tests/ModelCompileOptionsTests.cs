using ModelBuild.Diagnostics;
using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class ModelCompileOptionsTests
{
    [TestMethod]
    public void Equivalent_options_have_the_same_canonical_text()
    {
        var a = ModelCompileOptions.Parse("m.pt2", "CPU", "FP32", "y:1=2..4..8; x:0=1..8..64", "0.0001", "m");
        var b = ModelCompileOptions.Parse("m.pt2", "cpu", "fp32", "x:0=1..8..64,y:1=2..4..8", "1e-4", "m");
        Assert.AreEqual(a.Canonical, b.Canonical);
    }

    [TestMethod]
    public void Modelc_arguments_follow_the_command_line_contract()
    {
        var options = ModelCompileOptions.Parse("m.pt2", "cuda", "fp16", "x:0=1..8..64", "1e-3", "classifier", "ONNXRuntime", "4", "aten.softmax; aten.gelu");
        CollectionAssert.AreEqual(
            new[]
            {
                "--device", "cuda", "--precision", "fp16", "--shape", "x:0=1..8..64", "--tolerance", "0.001", "--name", "classifier",
                "--backend", "onnxruntime", "--min-block-size", "4", "--torch-executed-op", "aten.gelu", "--torch-executed-op", "aten.softmax",
            },
            options.ToModelcArguments().ToArray());
    }

    [TestMethod]
    [DataRow("tensorrt", "", DiagnosticCodes.UnknownBackend)]
    [DataRow("auto", "0", DiagnosticCodes.MalformedMinBlockSize)]
    [DataRow("auto", "three", DiagnosticCodes.MalformedMinBlockSize)]
    public void A_backend_option_modelc_would_refuse_is_refused_here(string backend, string minBlockSize, string code)
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompileOptions.Parse("models/m.pt2", "cpu", "fp32", "", "", "m", backend, minBlockSize));
        Assert.AreEqual(code, e.Code);
        Assert.AreEqual("models/m.pt2", e.File);
    }

    [TestMethod]
    public void Empty_tolerance_leaves_modelc_its_default()
    {
        var options = ModelCompileOptions.Parse("m.pt2", "cpu", "fp32", "", "", "m");
        CollectionAssert.DoesNotContain(options.ToModelcArguments().ToArray(), "--tolerance");
    }

    [TestMethod]
    [DataRow("tpu", "fp32", "", "", DiagnosticCodes.UnknownDevice)]
    [DataRow("cpu", "int8", "", "", DiagnosticCodes.UnknownPrecision)]
    [DataRow("cpu", "fp32", "x:0=1..64", "", DiagnosticCodes.MalformedShapeOption)]
    [DataRow("cpu", "fp32", "x:0=8..4..64", "", DiagnosticCodes.MalformedShapeOption)]
    [DataRow("cpu", "fp32", "x:0=0..4..64", "", DiagnosticCodes.MalformedShapeOption)]
    [DataRow("cpu", "fp32", "x:0=1..4..64;x:0=1..2..3", "", DiagnosticCodes.MalformedShapeOption)]
    [DataRow("cpu", "fp32", "", "-1", DiagnosticCodes.MalformedTolerance)]
    [DataRow("cpu", "fp32", "", "small", DiagnosticCodes.MalformedTolerance)]
    public void Invalid_metadata_is_refused_with_its_code(string device, string precision, string shapes, string tolerance, string code)
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompileOptions.Parse("models/m.pt2", device, precision, shapes, tolerance, "m"));
        Assert.AreEqual(code, e.Code);
        Assert.AreEqual("models/m.pt2", e.File);
    }
}
