using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class ModelcDiagnosticTests
{
    [TestMethod]
    public void Parses_an_error_line_with_a_file()
    {
        var d = ModelcDiagnostic.TryParse("modelc: error MB2001: /src/models/x.pt2: the op aten.foo.default is not supported.");
        Assert.IsNotNull(d);
        Assert.IsTrue(d.IsError);
        Assert.AreEqual("MB2001", d.Code);
        Assert.AreEqual("/src/models/x.pt2", d.File);
        Assert.AreEqual("the op aten.foo.default is not supported.", d.Message);
    }

    [TestMethod]
    public void Parses_a_warning_line_without_a_file()
    {
        var d = ModelcDiagnostic.TryParse("modelc: warning MB3002: validation used 2 of 3 cases");
        Assert.IsNotNull(d);
        Assert.IsFalse(d.IsError);
        Assert.IsNull(d.File);
        Assert.AreEqual("validation used 2 of 3 cases", d.Message);
    }

    [TestMethod]
    [DataRow("compiled classifier in 1.2 s")]
    [DataRow("error: something")]
    [DataRow("modelc: error: no code")]
    public void Other_lines_are_not_diagnostics(string line) => Assert.IsNull(ModelcDiagnostic.TryParse(line));
}
