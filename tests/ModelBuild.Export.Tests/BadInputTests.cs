using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using ModelBuild.Diagnostics;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>Broken and hostile files, made from the real fixtures: each gives its own MB code naming the file.</summary>
[TestClass]
public sealed class BadInputTests
{
    private FixtureEditor _edit = null!;

    [TestInitialize]
    public void CreateFolder() => _edit = new FixtureEditor();

    [TestCleanup]
    public void DeleteFolder() => _edit.Dispose();

    [TestMethod]
    public void MissingFile_IsMB1010() => AssertFails(Path.Combine(_edit.Folder, "absent.pt2"), DiagnosticCodes.ModelFileNotFound);

    [TestMethod]
    public void FileThatIsNoModel_IsMB1011() => AssertFails(TestPaths.Fixture("mlp", "cases.safetensors"), DiagnosticCodes.ModelFormatUnknown);

    [TestMethod]
    public void TruncatedZip_IsMB1012()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("mlp", "model.pt2"));
        var path = _edit.Write("truncated.pt2", bytes[..(bytes.Length / 2)]);

        AssertFails(path, DiagnosticCodes.ArchiveCorrupt);
    }

    [TestMethod]
    public void EntryNamedWithDotDot_IsMB1013_AndNothingIsWrittenOutside()
    {
        var path = _edit.Rewrite("mlp", "model.pt2", "escape.pt2", extra: ("model/../../escaped.txt", "x"u8.ToArray()));

        var e = AssertFails(path, DiagnosticCodes.ArchiveUnsafeEntry);

        StringAssert.Contains(e.Message, "model/../../escaped.txt");
        Assert.IsFalse(File.Exists(Path.Combine(_edit.Folder, "..", "escaped.txt")));
        Assert.IsFalse(File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "..", "escaped.txt")));
    }

    [TestMethod]
    public void ArchiveOverTheLimit_IsMB1014()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() =>
            ModelReader.Read(TestPaths.Fixture("small_cnn", "model.pt2"), new ModelReaderOptions { MaxArchiveBytes = 10_000 }));

        Assert.AreEqual(DiagnosticCodes.ArchiveTooLarge, e.Code);
        StringAssert.Contains(e.Message, "10000");
    }

    [TestMethod]
    public void EntriesSummingOverTheLimit_IsMB1014()
    {
        // A small file whose entries claim more than the limit (a zip bomb's shape): refused before anything is inflated.
        var path = _edit.Rewrite("mlp", "model.pt2", "bomb.pt2", extra: ("model/padding", new byte[200_000]));
        Assert.IsTrue(new FileInfo(path).Length < 100_000);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(path, new ModelReaderOptions { MaxArchiveBytes = 100_000 }));

        Assert.AreEqual(DiagnosticCodes.ArchiveTooLarge, e.Code);
    }

    [TestMethod]
    public void UnknownSchemaMajor_IsMB1020()
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p => p["schema_version"]!["major"] = 9);

        var e = AssertFails(path, DiagnosticCodes.SchemaVersionUnsupported);
        StringAssert.Contains(e.Message, "9.17");
    }

    [TestMethod]
    public void ProgramThatIsNotJson_IsMB1021()
    {
        var path = _edit.Rewrite("mlp", "model.pt2", "notjson.pt2", replace: name => name.EndsWith("models/model.json", StringComparison.Ordinal) ? "{\"graph_module\": ["u8.ToArray() : null);

        AssertFails(path, DiagnosticCodes.ProgramMalformed);
    }

    [TestMethod]
    public void SizeSymbolMissingFromTheConstraints_IsMB1022_NamingIt()
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p => p["range_constraints"]!.AsObject().Remove("s31"));

        var e = AssertFails(path, DiagnosticCodes.SymbolWithoutRange);
        StringAssert.Contains(e.Message, "'s31'");
    }

    [TestMethod]
    public void UnknownArgumentKind_IsMB1023_NamingTheNode()
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p =>
        {
            var input = p["graph_module"]!["graph"]!["nodes"]![0]!["inputs"]![0]!;
            input["arg"] = new JsonObject { ["as_custom_obj"] = new JsonObject() };
        });

        var e = AssertFails(path, DiagnosticCodes.ArgumentKindUnsupported);
        StringAssert.Contains(e.Message, "as_custom_obj");
        StringAssert.Contains(e.Message, "linear");
    }

    [TestMethod]
    [DataRow(-1L)]
    [DataRow(1L << 41)]
    public void AbsurdTensorSize_IsMB1024(long size)
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p =>
            p["graph_module"]!["graph"]!["tensor_values"]!["p_weight"]!["sizes"]![0] = new JsonObject { ["as_int"] = size });

        AssertFails(path, DiagnosticCodes.TensorSizeInvalid);
    }

    [TestMethod]
    public void AbsurdWeightSizeInTheWeightsConfig_IsMB1024()
    {
        var path = _edit.Rewrite("seed_linear_dynamic", "model.pt2", "weights.pt2", replace: name =>
        {
            if (!name.EndsWith("model_weights_config.json", StringComparison.Ordinal))
            {
                return null;
            }
            var config = JsonNode.Parse(FixtureEditor.ReadEntry("seed_linear_dynamic", "model.pt2", name))!;
            config["config"]!["weight"]!["tensor_meta"]!["strides"]![0] = new JsonObject { ["as_int"] = -5 };
            return Encoding.UTF8.GetBytes(config.ToJsonString());
        });

        AssertFails(path, DiagnosticCodes.TensorSizeInvalid);
    }

    [TestMethod]
    public void WeightStorageShorterThanItsSizes_IsMB1025()
    {
        var path = _edit.Rewrite("seed_linear_dynamic", "model.pt2", "short.pt2", replace: name => name.EndsWith("weights/weight_0", StringComparison.Ordinal) ? new byte[8] : null);

        var e = AssertFails(path, DiagnosticCodes.WeightDataMismatch);
        StringAssert.Contains(e.Message, "'weight'");
    }

    [TestMethod]
    public void BigEndianArchive_IsMB1027()
    {
        var path = _edit.Rewrite("mlp", "model.pt2", "big.pt2", replace: name => name == "model/byteorder" ? "big"u8.ToArray() : null);

        AssertFails(path, DiagnosticCodes.ByteOrderUnsupported);
    }

    [TestMethod]
    public void PickleNamingAGlobalOutsideTheAllowList_IsMB1030_NamingIt()
    {
        // PROTO 2; GLOBAL os.system; ('echo hi',); REDUCE; STOP. Loading it in Python would run a shell command.
        var evil = Encoding.Latin1.GetBytes("\u0080\u0002cos\nsystem\nX\u0007\u0000\u0000\u0000echo hi\u0085R.");
        var path = _edit.RewriteStateDict("mlp", evil);

        var e = AssertFails(path, DiagnosticCodes.PickleGlobalNotAllowed);
        StringAssert.Contains(e.Message, "'os.system'");
        StringAssert.Contains(e.Message, "serialized_state_dict.pt");
    }

    [TestMethod]
    public void TruncatedPickle_IsMB1031()
    {
        var path = _edit.RewriteStateDict("mlp", Encoding.Latin1.GetBytes("\u0080\u0002}q\u0000(X\u0009\u0000\u0000\u0000fc1"));

        AssertFails(path, DiagnosticCodes.PickleMalformed);
    }

    [TestMethod]
    public void BadSizeExpression_IsMB1001()
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p =>
            p["graph_module"]!["graph"]!["tensor_values"]!["input"]!["sizes"]![0] = new JsonObject
            {
                ["as_expr"] = new JsonObject { ["expr_str"] = "Mul(Integer(2), Symbol('s31'" },
            });

        AssertFails(path, DiagnosticCodes.SymExprSyntax);
    }

    [TestMethod]
    public void MalformedOnnx_IsMB1050()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("mlp", "model.onnx"));
        var path = _edit.Write("cut.onnx", bytes[..(bytes.Length / 3)]);

        AssertFails(path, DiagnosticCodes.OnnxMalformed);
    }

    private static ModelBuildException AssertFails(string path, string code)
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(path).Weights.Select(w => w.Read()).ToList());
        Assert.AreEqual(code, e.Code, e.Message);
        StringAssert.Contains(e.Message, Path.GetFileName(path));
        return e;
    }
}
