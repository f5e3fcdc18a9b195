using System.Text;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using NuGet.Versioning;

namespace ModelBuild.Engine.Tests;

[TestClass]
public sealed class EngineFileTests
{
    private static readonly NuGetVersion Runtime = NuGetVersion.Parse("0.1.0");

    [TestMethod]
    public void WriteThenRead_KeepsManifestPlanAndWeights()
    {
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), SampleWeights());

        var engine = EngineFile.Read(bytes, "e.mbengine", Runtime);

        Assert.AreEqual("sample", engine.Manifest.Name);
        CollectionAssert.AreEqual(new[] { "s0", "2*s0" }, engine.Manifest.Inputs[0].Dims.ToArray());
        Assert.AreEqual(new ManifestSymbol(1, 4, 32), engine.Manifest.Symbols["s0"]);
        Assert.AreEqual(new ManifestRelation("2*s0", 2, 64), engine.Manifest.Relations.Single());
        Assert.AreEqual(64, engine.Manifest.PayloadSha256.Length);
        var node = engine.Plan.Blocks.Single().Nodes![1];
        Assert.AreEqual("torch.ops.aten.linear.default", node.Target);
        Assert.AreEqual("model.py:3", node.Origin);
        Assert.AreEqual(new TensorArg("x"), node.Inputs[0].Value);
        Assert.AreEqual(new SymIntArg(SymInt.Ref("sym")), node.Inputs[2].Value);
        Assert.AreEqual(new DeviceArg("cpu", null), node.Inputs[3].Value);
        Assert.AreEqual(double.NegativeInfinity, ((FloatArg)node.Inputs[4].Value).Value);
        CollectionAssert.AreEqual(new[] { "x" }, engine.Plan.Blocks.Single().FreeAfter[1].ToArray());
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 4 }, engine.Tensors.Data("p_w").ToArray());
    }

    [TestMethod]
    public void WriteThenRead_KeepsSubgraphsAndSymbolicArguments()
    {
        var branch = new Subgraph([new TensorArg("a")], [new TensorArg("r")], [new GraphNode("torch.ops.aten.relu.default", [new NamedArgument("self", new TensorArg("a"))], [new TensorArg("r")])]);
        var cond = new GraphNode("torch.ops.higher_order.cond",
            [new NamedArgument("", new SymBoolArg(null, "ge")), new NamedArgument("", new GraphArg("true_graph_0", branch)),
             new NamedArgument("", new GraphArg("false_graph_0", branch with { Nodes = [], Outputs = [new TensorArg("a")] })), new NamedArgument("", new TensorsArg(["x"]))],
            [new TensorArg("y")]);
        var ge = new GraphNode("_operator.ge", [new NamedArgument("a", new SymFloatArg(null, "f")), new NamedArgument("b", new SymFloatArg(0.5, null))], [new SymBoolArg(null, "ge")]);
        var item = new GraphNode("torch.ops.aten.item.default", [new NamedArgument("self", new TensorArg("x"))], [new SymFloatArg(null, "f")]);
        var plan = new ExecutionPlan(["x"], ["y", "x"], [new PlanBlock("torch", ["x"], ["y", "x"]) { Nodes = [item, ge, cond], OpCount = 3 }]);

        var read = EngineFile.Read(EngineFile.Write(SampleManifest() with { MutatedInputs = ["x"] }, plan, SampleWeights()), "e", Runtime);

        var nodes = read.Plan.Blocks.Single().Nodes!;
        CollectionAssert.AreEqual(ge.Inputs.ToList(), nodes[1].Inputs.ToList());
        CollectionAssert.AreEqual(ge.Outputs.ToList(), nodes[1].Outputs.ToList());
        Assert.AreEqual(new SymBoolArg(null, "ge"), nodes[2].Inputs[0].Value);
        var subgraphs = nodes[2].Subgraphs().ToList();
        Assert.HasCount(2, subgraphs);
        Assert.AreEqual("torch.ops.aten.relu.default", subgraphs[0].Nodes.Single().Target);
        CollectionAssert.AreEqual(branch.Inputs.ToList(), subgraphs[0].Inputs.ToList());
        CollectionAssert.AreEqual(new Argument[] { new TensorArg("a") }, subgraphs[1].Outputs.ToList());
        CollectionAssert.AreEqual(new[] { "x" }, read.Manifest.MutatedInputs.ToList());
    }

    [TestMethod]
    public void Read_AWeightByteChanged_FailsWithPayloadTampered()
    {
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), SampleWeights());
        bytes[^1] ^= 0xFF;

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EnginePayloadTampered, e.Code);
        StringAssert.Contains(e.Message, "modified or corrupted");
    }

    [TestMethod]
    public void Read_ThePlanEdited_FailsWithPayloadTampered()
    {
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), SampleWeights());
        var original = SafetensorsFile.Parse(bytes);
        var metadata = original.Metadata.ToDictionary();
        metadata["plan"] = metadata["plan"].Replace("\"outputs\":[\"y\"]", "\"outputs\":[\"x\"]", StringComparison.Ordinal);
        Assert.AreNotEqual(original.Metadata["plan"], metadata["plan"]);
        var edited = SafetensorsWriter.Write(SampleWeights(), metadata);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(edited, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EnginePayloadTampered, e.Code);
    }

    [TestMethod]
    public void Read_ARuntimeOutsideTheManifestRange_IsRejected()
    {
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), SampleWeights());

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", NuGetVersion.Parse("0.2.0")));

        Assert.AreEqual(DiagnosticCodes.EngineRuntimeVersionRejected, e.Code);
        StringAssert.Contains(e.Message, "[0.1.0, 0.2.0)");
        StringAssert.Contains(e.Message, "this is 0.2.0");
    }

    [TestMethod]
    public void Read_ANewerSchemaVersion_IsRejected()
    {
        var bytes = EngineFile.Write(SampleManifest() with { SchemaVersion = 99 }, SamplePlan(), SampleWeights());

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineSchemaUnsupported, e.Code);
        StringAssert.Contains(e.Message, "99");
    }

    [TestMethod]
    public void Read_APlainSafetensorsFile_IsNotAnEngine()
    {
        var bytes = SafetensorsWriter.Write(SampleWeights());

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "w.safetensors", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineNotAnEngine, e.Code);
    }

    [TestMethod]
    public void Write_HashesWhatTheFormatDocumentSays()
    {
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), SampleWeights());
        var file = SafetensorsFile.Parse(bytes);

        var expected = Sha256Hex([.. Encoding.UTF8.GetBytes(file.Metadata["plan"]), .. "p_w\0U8\u00002,2\0"u8, .. Sha256([1, 2, 3, 4])]);

        Assert.AreEqual(expected, EngineFile.Read(bytes, "e", null).Manifest.PayloadSha256);
    }

    [TestMethod]
    public void Write_HashesLargeTensorsChunkByChunk_AsTheFormatDocumentSays()
    {
        // 2.5 chunks of 256 KiB, over a megabyte in all: the digests are computed in parallel.
        var large = new byte[5 * 128 * 1024 + 7];
        new Random(3).NextBytes(large);
        SafetensorsTensor[] weights = [new("p_w", TensorDType.U8, [2, 2], new byte[] { 1, 2, 3, 4 }), new("a_big", TensorDType.U8, [large.Length], large), new("e", TensorDType.F32, [0], Array.Empty<byte>())];
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), weights);
        var file = SafetensorsFile.Parse(bytes);

        byte[] expected = [
            .. Encoding.UTF8.GetBytes(file.Metadata["plan"]),
            .. Encoding.UTF8.GetBytes($"a_big\0U8\0{large.Length}\0"), .. Sha256(large[..262144]), .. Sha256(large[262144..524288]), .. Sha256(large[524288..]),
            .. "e\0F32\u00000\0"u8,
            .. "p_w\0U8\u00002,2\0"u8, .. Sha256([1, 2, 3, 4])];

        Assert.AreEqual(Sha256Hex(expected), EngineFile.Read(bytes, "e", null).Manifest.PayloadSha256);
    }

    [TestMethod]
    public void Read_AChangedByteInALargeTensor_IsAChangedPayload()
    {
        var large = new byte[3 * 1024 * 1024];
        var bytes = EngineFile.Write(SampleManifest(), SamplePlan(), [.. SampleWeights(), new("big", TensorDType.U8, [large.Length], large)]);
        bytes[^(1024 * 1024)] ^= 1;

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e", Runtime));

        Assert.AreEqual(DiagnosticCodes.EnginePayloadTampered, e.Code);
    }

    private static byte[] Sha256(byte[] data) => System.Security.Cryptography.SHA256.HashData(data);

    private static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));

    internal static SafetensorsTensor[] SampleWeights() => [new("p_w", TensorDType.U8, [2, 2], new byte[] { 1, 2, 3, 4 })];

    internal static ExecutionPlan SamplePlan() => new(
        ["x"], ["y"],
        [new PlanBlock("torch", ["x"], ["y"]) { Weights = ["p_w"], FreeAfter = [[], ["x"]], OpCount = 2, Nodes = [
        new GraphNode("torch.ops.aten.sym_size.int", [new NamedArgument("self", new TensorArg("x")), new NamedArgument("dim", new IntArg(0))],
            [new SymIntArg(SymInt.Ref("sym"))]),
        new GraphNode("torch.ops.aten.linear.default",
            [
                new NamedArgument("input", new TensorArg("x")),
                new NamedArgument("weight", new TensorArg("p_w")),
                new NamedArgument("n", new SymIntArg(SymInt.Ref("sym"))),
                new NamedArgument("device", new DeviceArg("cpu", null), KwargOnly: true),
                new NamedArgument("fill", new FloatArg(double.NegativeInfinity)),
            ],
            [new TensorArg("y")]) { Origin = "model.py:3" }] }]);

    internal static EngineManifest SampleManifest() => new()
    {
        Name = "sample",
        Source = new ManifestSource("pt2", "model.pt2", "ab", "2.11.0"),
        Toolchain = new ManifestToolchain("0.1.0", "0.107.0", "2.10.0"),
        Target = new ManifestTarget("cpu", null, "fp32"),
        Inputs = [new ManifestTensor("x", "F32", ["s0", "2*s0"])],
        Outputs = [new ManifestTensor("y", "F32", ["s0", "2"])],
        Symbols = new Dictionary<string, ManifestSymbol> { ["s0"] = new(1, 4, 32) },
        Relations = [new ManifestRelation("2*s0", 2, 64)],
        Validation = [],
        RuntimeVersions = "[0.1.0, 0.2.0)",
        PayloadSha256 = "",
    };
}
