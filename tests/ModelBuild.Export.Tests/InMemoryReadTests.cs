using ModelBuild.Diagnostics;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>PT2 archives read from memory (one program of a bigger archive) give the graph the file gives.</summary>
[TestClass]
public sealed class InMemoryReadTests
{
    [TestMethod]
    public void ReadingTheBytes_GivesTheGraphAndWeightsOfTheFile()
    {
        var path = TestPaths.Fixture("mlp", "model.pt2");
        var fromFile = ModelReader.Read(path);

        var fromMemory = ModelReader.Read(File.ReadAllBytes(path), "mlp.pt2");

        Assert.AreEqual("mlp.pt2", fromMemory.Source.File);
        Assert.AreEqual(fromFile.Source.Sha256, fromMemory.Source.Sha256);
        CollectionAssert.AreEqual(fromFile.Nodes.Select(n => n.Target).ToList(), fromMemory.Nodes.Select(n => n.Target).ToList());
        Assert.IsNotEmpty(fromMemory.Weights);
        foreach (var (expected, actual) in fromFile.Weights.Zip(fromMemory.Weights))
        {
            Assert.AreEqual(expected.ValueName, actual.ValueName);
            CollectionAssert.AreEqual(expected.Read().ToArray(), actual.Read().ToArray(), expected.ValueName);
        }
    }

    [TestMethod]
    public void BytesOfAnotherFormat_AreRefusedWithACode()
    {
        var torchScript = File.ReadAllBytes(TestPaths.Fixture("mlp", "model.ts.pt"));

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(torchScript, "mlp.ts.pt"));

        Assert.AreEqual(DiagnosticCodes.ModelFormatUnknown, e.Code);
        StringAssert.Contains(e.Message, "mlp.ts.pt");
    }
}
