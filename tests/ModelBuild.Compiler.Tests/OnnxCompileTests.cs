using ModelBuild.Diagnostics;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

[TestClass]
public sealed class OnnxCompileTests
{
    [TestMethod]
    public void Compile_OfAnOnnxModel_SaysToCompileTheArchiveInstead()
    {
        var file = TestPaths.Fixture("mlp", "model.onnx");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(file)));

        Assert.AreEqual(DiagnosticCodes.OnnxNotCompilable, e.Code);
        Assert.AreEqual(file, e.File);
        StringAssert.Contains(e.Message, ".pt2");
    }
}
