using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ModelBuild.Diagnostics;
using ModelBuild.Export.Pickle;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>
/// Files made to exhaust memory or time: each is refused with its code before the work it would cost, or read in
/// time linear in its size. The bombs are tests/fixtures/bad/ (make_bad_inputs.py there).
/// </summary>
[TestClass]
public sealed class HostileInputTests
{
    private FixtureEditor _edit = null!;

    [TestInitialize]
    public void CreateFolder() => _edit = new FixtureEditor();

    [TestCleanup]
    public void DeleteFolder() => _edit.Dispose();

    [TestMethod]
    [DataRow("json-bomb.pt2", "model/models/model.json")]
    [DataRow("code-bomb.ts.pt", "model.ts/code/__torch__/torch/nn/modules/linear.py")]
    [DataRow("pickle-bomb.legacy.pt2", "data.pkl")]
    public void ACompressionBomb_IsMB1017_BeforeItIsInflated(string file, string entry)
    {
        var path = TestPaths.BadInput(file);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(path));

        Assert.AreEqual(DiagnosticCodes.ArchiveInflationExceeded, e.Code, e.Message);
        StringAssert.StartsWith(e.Message, $"MB1017: {path}");
        StringAssert.Contains(e.Message, entry);
        // 100 MB declared: refused with a few MB allocated (the file, the central directory), not the entry.
        Assert.IsLessThan(16L << 20, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    [TestMethod]
    public void ACompressionRatioRaised_ReadsTheSameFile()
    {
        var graph = ModelReader.Read(TestPaths.BadInput("json-bomb.pt2"), new ModelReaderOptions { MaxCompressionRatio = 2000 });

        Assert.AreEqual("linear", graph.Nodes.Single().Target.Split('.')[^2]);
    }

    [TestMethod]
    public void APickleOverTheValueLimit_IsMB1032()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() =>
            ModelReader.Read(TestPaths.Fixture("mlp", "model.legacy.pt2"), new ModelReaderOptions { MaxPickleValues = 20 }));

        Assert.AreEqual(DiagnosticCodes.PickleTooLarge, e.Code);
        StringAssert.Contains(e.Message, "serialized_state_dict.pt");
    }

    [TestMethod]
    public void APickleNestingAListAMillionDeep_IsWalkedWithoutRecursion()
    {
        const int depth = 1_000_000;
        var pickle = Pickle([.. Enumerable.Repeat((byte)']', depth), .. Enumerable.Repeat((byte)'a', depth - 1)]);

        var value = PickleReader.Load(pickle, "deep.pt", "data.pkl", 2 * depth);

        Assert.IsEmpty(TorchSaveArchive.Tensors(value).ToList());
    }

    [TestMethod]
    public void APickleListThatHoldsItself_IsWalkedOnce()
    {
        // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND: the list is its own element.
        var value = PickleReader.Load(Pickle("]q\u0000h\u0000a"u8.ToArray()), "cycle.pt", "data.pkl", 100);

        Assert.IsEmpty(TorchSaveArchive.Tensors(value).ToList());
    }

    [TestMethod]
    public void APickleDictOfManyKeys_IsBuiltInLinearTime()
    {
        const int keys = 300_000;
        var body = new List<byte> { (byte)'}', (byte)'(' };
        for (var i = 0; i < keys; i++)
        {
            body.Add((byte)'J');
            body.AddRange(BitConverter.GetBytes(i));
            body.Add((byte)'N');
        }
        body.Add((byte)'u');
        var clock = Stopwatch.StartNew();

        var dict = (PickleDict)PickleReader.Load(Pickle([.. body]), "dict.pt", "data.pkl", 4 * keys)!;

        Assert.HasCount(keys, dict.Items);
        Assert.IsLessThan(TimeSpan.FromSeconds(5), clock.Elapsed, "a key search per SETITEMS pair is quadratic: minutes");
    }

    [TestMethod]
    public void ATorchScriptModuleThatIsItsOwnChild_IsWalkedOnce()
    {
        var path = _edit.Rewrite("seed_linear_static", "model.ts.pt", "cyclic.ts.pt", replace: name =>
        {
            if (name != "model.ts/data.pkl")
            {
                return null;
            }
            // The module's state dict gets an entry "again" that is the module itself (memo 0 holds the module).
            var pickle = FixtureEditor.ReadEntryBytes("seed_linear_static", "model.ts.pt", name);
            var setItems = Array.LastIndexOf(pickle, (byte)'u');
            return [.. pickle[..setItems], .. "X\u0005\u0000\u0000\u0000againh\u0000"u8, .. pickle[setItems..]];
        });

        var graph = ModelReader.Read(path);

        CollectionAssert.AreEquivalent(new[] { "weight", "bias" }, graph.Weights.Select(w => w.ValueName).ToList());
    }

    [TestMethod]
    public void TorchScriptCodeWithManyUnclosedSignatures_IsSearchedInLinearTime()
    {
        var code = "model.ts/code/__torch__/torch/nn/modules/linear.py";
        var path = _edit.Rewrite("seed_linear_static", "model.ts.pt", "slow.ts.pt", replace: name =>
            name == code ? Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("def forward(self, ", 200_000))) : null);
        var clock = Stopwatch.StartNew();

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(path));

        Assert.AreEqual(DiagnosticCodes.TorchScriptMalformed, e.Code);
        Assert.IsLessThan(TimeSpan.FromSeconds(5), clock.Elapsed, "a backtracking search is quadratic here: hours");
    }

    [TestMethod]
    public void ATensorOfMoreThan64Dims_IsMB1024()
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p =>
            p["graph_module"]!["graph"]!["tensor_values"]!["p_weight"]!["sizes"] = new JsonArray([.. Enumerable.Range(0, 65).Select(_ => new JsonObject { ["as_int"] = 1 })]));

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(path));

        Assert.AreEqual(DiagnosticCodes.TensorSizeInvalid, e.Code);
        StringAssert.Contains(e.Message, "65 dims");
    }

    [TestMethod]
    [DataRow("target", null)]
    [DataRow("target", "")]
    [DataRow("inputs.0.name", null)]
    [DataRow("inputs.0.arg.as_tensor.name", "")]
    public void ANullOrEmptyNameInTheProgram_IsMB1021(string field, string? value)
    {
        var path = _edit.RewriteProgram("seed_linear_dynamic", p =>
        {
            var parts = field.Split('.');
            var parent = parts[..^1].Aggregate(p["graph_module"]!["graph"]!["nodes"]![0]!, (n, s) => int.TryParse(s, out var i) ? n[i]! : n[s]!);
            parent[parts[^1]] = value;
        });

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelReader.Read(path));

        Assert.AreEqual(DiagnosticCodes.ProgramMalformed, e.Code, e.Message);
    }

    [TestMethod]
    public void StridesThatReachPast64Bits_NeedMoreStorageThanAnyFileHolds()
    {
        // (2^20 - 1) * 2^40 twice, times 8 bytes: past 2^63, which wrapped to a negative size that any storage "covered".
        var tensor = new StoredTensor(Engine.Safetensors.TensorDType.F64, [1L << 20, 1L << 20], [1L << 40, 1L << 40], 0);

        tensor.Validate("t", "f");

        Assert.AreEqual(long.MaxValue, tensor.StorageBytesNeeded);
    }

    /// <summary>PROTO 2, the body, STOP.</summary>
    private static byte[] Pickle(byte[] body) => [0x80, 2, .. body, (byte)'.'];
}
