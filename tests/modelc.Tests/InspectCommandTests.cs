using System.Text.Json;
using ModelBuild.Tests;

namespace ModelBuild.Cli.Tests;

[TestClass]
public sealed class InspectCommandTests
{
    [TestMethod]
    public void InspectJson_OfSmallCnn_ListsInputDimsSymbolsRelationsOpsAndWeights()
    {
        var (code, stdout, stderr) = ModelcProcess.Run("inspect", "--json", TestPaths.Fixture("small_cnn", "model.pt2"));

        Assert.AreEqual(0, code, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual("pt2", root.GetProperty("format").GetString());
        Assert.AreEqual("8.17", root.GetProperty("formatVersion").GetString());
        Assert.IsFalse(root.GetProperty("rangesFromUser").GetBoolean());
        var input = root.GetProperty("inputs")[0];
        Assert.AreEqual("x", input.GetProperty("name").GetString());
        Assert.AreEqual("F32", input.GetProperty("dtype").GetString());
        Assert.AreEqual("""["s77",3,"8*s69","8*s81"]""", input.GetProperty("dims").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        var symbols = root.GetProperty("symbols").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => (s.GetProperty("min").GetInt64(), s.GetProperty("max").GetInt64()));
        CollectionAssert.AreEquivalent(new Dictionary<string, (long, long)> { ["s77"] = (1, 8), ["s69"] = (2, 16), ["s81"] = (2, 16) }.ToList(), symbols.ToList());
        var relation = root.GetProperty("relations")[0];
        Assert.AreEqual("8*s69", relation.GetProperty("expr").GetString());
        Assert.AreEqual(128, relation.GetProperty("max").GetInt64());
        Assert.AreEqual(2, root.GetProperty("ops").GetProperty("torch.ops.aten.conv2d.default").GetInt32());
        Assert.AreEqual(16, root.GetProperty("weights").GetProperty("count").GetInt32());
        Assert.AreEqual("[[2,3,32,32]]", root.GetProperty("exampleInputShapes").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
    }

    /// <summary>The text view says which candidate auto kept, every candidate's time, and an ONNX Runtime block's thread count when it has one.</summary>
    [TestMethod]
    public void InspectText_OfAnAutoEngine_ShowsTheCandidatesAndTheBlocksThreads()
    {
        var engine = Path.Combine(Path.GetTempPath(), $"modelc-inspect-{Guid.NewGuid():N}.mbengine");
        try
        {
            var compile = ModelcProcess.Run("compile", TestPaths.Fixture("mlp", "model.pt2"), "-o", engine, "--backend", "auto");
            Assert.AreEqual(0, compile.Code, compile.Stderr);

            var (code, stdout, stderr) = ModelcProcess.Run("inspect", engine);

            Assert.AreEqual(0, code, stderr);
            var selection = stdout.Split('\n').Single(l => l.StartsWith("backend ", StringComparison.Ordinal));
            var chosen = selection.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            StringAssert.Contains(selection, "asked: auto; torch ");
            StringAssert.Contains(selection, " us at opt, onnxruntime ");
            var block = stdout.Split('\n').Single(l => l.TrimStart().StartsWith("block 0:", StringComparison.Ordinal));
            Assert.AreEqual(chosen == "onnxruntime-1thread", block.Contains(", 1 thread,", StringComparison.Ordinal), $"{selection}\n{block}");
        }
        finally
        {
            File.Delete(engine);
        }
    }

    [TestMethod]
    [DataRow("small_cnn")]
    [DataRow("multi_io")]
    [DataRow("seed_linear_dynamic")]
    public void InspectJson_OfACompiledEngine_ShowsTheArchivesRangesRelationsAndDims(string model)
    {
        var engine = Path.Combine(Path.GetTempPath(), $"modelc-inspect-{Guid.NewGuid():N}.mbengine");
        try
        {
            var compile = ModelcProcess.Run("compile", TestPaths.Fixture(model, "model.pt2"), "-o", engine);
            Assert.AreEqual(0, compile.Code, compile.Stderr);

            var (archiveCode, archiveJson, _) = ModelcProcess.Run("inspect", "--json", TestPaths.Fixture(model, "model.pt2"));
            var (engineCode, engineJson, engineErr) = ModelcProcess.Run("inspect", "--json", engine);

            Assert.AreEqual(0, archiveCode);
            Assert.AreEqual(0, engineCode, engineErr);
            using var archive = JsonDocument.Parse(archiveJson);
            using var compiled = JsonDocument.Parse(engineJson);
            var manifest = compiled.RootElement.GetProperty("manifest");
            Assert.AreEqual("modelbuild-engine", compiled.RootElement.GetProperty("format").GetString());
            var archiveSymbols = archive.RootElement.GetProperty("symbols").EnumerateArray()
                .Select(s => $"{s.GetProperty("name").GetString()}={s.GetProperty("min").GetInt64()}..{s.GetProperty("max").GetInt64()}").Order().ToList();
            var engineSymbols = manifest.GetProperty("symbols").EnumerateObject()
                .Select(s => $"{s.Name}={s.Value.GetProperty("min").GetInt64()}..{s.Value.GetProperty("max").GetInt64()}").Order().ToList();
            CollectionAssert.AreEqual(archiveSymbols, engineSymbols);
            CollectionAssert.AreEqual(
                archive.RootElement.GetProperty("relations").EnumerateArray().Select(r => $"{r.GetProperty("expr").GetString()}={r.GetProperty("min")}..{r.GetProperty("max")}").ToList(),
                manifest.GetProperty("relations").EnumerateArray().Select(r => $"{r.GetProperty("expr").GetString()}={r.GetProperty("min")}..{r.GetProperty("max")}").ToList());
            CollectionAssert.AreEqual(
                archive.RootElement.GetProperty("inputs").EnumerateArray().Select(i => string.Join(",", i.GetProperty("dims").EnumerateArray().Select(d => d.ToString()))).ToList(),
                manifest.GetProperty("inputs").EnumerateArray().Select(i => string.Join(",", i.GetProperty("dims").EnumerateArray().Select(d => d.GetString()))).ToList());
        }
        finally
        {
            File.Delete(engine);
        }
    }

    [TestMethod]
    public void InspectText_OfTorchScript_SaysRangesMustComeFromTheUser()
    {
        var (code, stdout, stderr) = ModelcProcess.Run("inspect", TestPaths.Fixture("seed_linear_dynamic", "model.ts.pt"));

        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "torchscript");
        StringAssert.Contains(stdout, "--shape");
    }

    [TestMethod]
    public void Inspect_OfANonModel_PrintsACodedErrorAndExitsWithOne()
    {
        var file = TestPaths.Fixture("mlp", "fixture.json");

        var (code, stdout, stderr) = ModelcProcess.Run("inspect", file);

        Assert.AreEqual(1, code);
        Assert.AreEqual("", stdout);
        Assert.AreEqual($"modelc: error MB1011: {file}: ", stderr[..$"modelc: error MB1011: {file}: ".Length]);
    }
}
