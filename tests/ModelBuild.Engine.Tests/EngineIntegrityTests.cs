using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;
using NuGet.Versioning;

namespace ModelBuild.Engine.Tests;

/// <summary>
/// An engine is read only whole and as written: a changed byte anywhere, or (with the hashes recomputed) a null,
/// an empty name or a contradiction in manifest or plan, is a coded error at load that names the file and the field.
/// </summary>
[TestClass]
public sealed partial class EngineIntegrityTests
{
    private static readonly NuGetVersion Runtime = NuGetVersion.Parse("0.1.0");

    private static byte[] Sample() => EngineFile.Write(EngineFileTests.SampleManifest(), EngineFileTests.SamplePlan(), EngineFileTests.SampleWeights());

    [TestMethod]
    public void Read_AnyByteFlipped_IsRefusedWithAnEngineFileCode()
    {
        var engine = Sample();
        var codes = new Dictionary<string, int>();
        for (var i = 0; i < engine.Length; i++)
        {
            var flipped = (byte[])engine.Clone();
            flipped[i] ^= (byte)(1 << (i % 8));

            var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(flipped, "e.mbengine", Runtime), $"byte {i} flipped was read");

            StringAssert.StartsWith(e.Message, $"{e.Code}: e.mbengine: ");
            codes[e.Code] = codes.GetValueOrDefault(e.Code) + 1;
        }
        var expected = new[]
        {
            DiagnosticCodes.SafetensorsMalformed, DiagnosticCodes.SafetensorsUnknownDtype, DiagnosticCodes.EngineNotAnEngine,
            DiagnosticCodes.EnginePayloadTampered, DiagnosticCodes.EngineManifestTampered,
        };
        CollectionAssert.IsSubsetOf(codes.Keys.ToList(), expected, string.Join(", ", codes.Select(c => $"{c.Key}: {c.Value}")));
        Assert.IsTrue(codes.ContainsKey(DiagnosticCodes.EnginePayloadTampered) && codes.ContainsKey(DiagnosticCodes.EngineManifestTampered));
    }

    [TestMethod]
    public void Read_AnEngineWithoutTheManifestHash_IsNotAnEngine()
    {
        var file = SafetensorsFile.Parse(Sample());
        var metadata = file.Metadata.Where(m => m.Key != EngineFile.ManifestHashKey).ToDictionary();
        var bytes = SafetensorsWriter.Write(EngineFileTests.SampleWeights(), metadata);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "old.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineNotAnEngine, e.Code);
        StringAssert.Contains(e.Message, EngineFile.ManifestHashKey);
    }

    [TestMethod]
    [DataRow("manifest.name")]
    [DataRow("manifest.target")]
    [DataRow("manifest.inputs[0]")]
    [DataRow("manifest.inputs[0].dims[0]")]
    [DataRow("manifest.outputs[0].name")]
    [DataRow("manifest.symbols.s0")]
    [DataRow("manifest.relations[0].expr")]
    [DataRow("manifest.runtimeVersions")]
    [DataRow("plan.blocks[0].weights")]
    [DataRow("plan.blocks[0].freeAfter[1]")]
    [DataRow("plan.blocks[0].freeAfter[1][0]")]
    [DataRow("plan.blocks[0].nodes[1]")]
    [DataRow("plan.blocks[0].nodes[1].target")]
    [DataRow("plan.blocks[0].nodes[1].inputs[0].value")]
    [DataRow("plan.blocks[0].nodes[1].inputs[1].value.name")]
    [DataRow("plan.blocks[0].nodes[1].outputs[0].name")]
    [DataRow("plan.blocks[0].nodes[0].outputs[0].value")]
    public void Read_ANullWhereAValueIsRequired_IsMB4012NamingTheField(string path)
    {
        var bytes = EngineEditor.Edit(Sample(), (manifest, plan) => SetNull(path.StartsWith("plan", StringComparison.Ordinal) ? plan : manifest, path));

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineFieldMissing, e.Code, e.Message);
        StringAssert.Contains(e.Message, "e.mbengine: ");
        StringAssert.Contains(NodeTargetRemoved().Replace(e.Message, ""), path);
    }

    [TestMethod]
    [DataRow("block", "freeAfter", "[[]]", "plan.blocks[0].freeAfter has 1 entries for 2 nodes")]
    [DataRow("block", "outputs", "[\"r\"]", "plan.blocks[0].outputs name 'r', which no node of the block produces")]
    [DataRow("block", "inputs", "[\"z\"]", "plan.blocks[0] reads value 'z', which is no input of the model and no earlier block produces")]
    [DataRow("plan", "inputs", "[\"x\", \"z\"]", "plan.inputs (x, z) differ from manifest.inputs (x)")]
    [DataRow("plan", "outputs", "[\"q\"]", "plan.outputs name 'q', which no block produces")]
    [DataRow("plan", "outputs", "[\"y\", \"y\"]", "plan.outputs has 2 values for manifest.outputs' 1 and 0 mutated inputs")]
    [DataRow("plan", "device", "\"tpu\"", "plan.device is 'tpu'")]
    [DataRow("manifest", "symbols", "{\"s0\": {\"min\": 8, \"opt\": 4, \"max\": 32}}", "manifest.symbols.s0 is 8..4..32")]
    [DataRow("manifest", "symbols", "{}", "symbol s0, which manifest.symbols gives no range")]
    [DataRow("manifest", "inputs", "[{\"name\": \"x\", \"dtype\": \"F33\", \"dims\": [\"s0\"]}]", "manifest.inputs[0].dtype is 'F33'")]
    public void Read_ManifestAndPlanThatContradictEachOther_IsMB4013(string part, string field, string json, string message)
    {
        var bytes = EngineEditor.Edit(Sample(), (manifest, plan) => (part switch { "plan" => plan, "block" => plan["blocks"]![0]!, _ => manifest })[field] = JsonNode.Parse(json));

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineInconsistent, e.Code, e.Message);
        StringAssert.Contains(e.Message, message);
    }

    [TestMethod]
    public void Read_AValueReadBeforeANodeProducesIt_IsMB4013()
    {
        var bytes = EngineEditor.Edit(Sample(), (_, plan) => plan["blocks"]![0]!["nodes"]![1]!["inputs"]![1]!["value"]!["name"] = "later");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineInconsistent, e.Code);
        StringAssert.Contains(e.Message, "plan.blocks[0].nodes[1] (torch.ops.aten.linear.default) reads value 'later' (argument 'weight')");
    }

    [TestMethod]
    public void Read_AManifestDimThatIsNoExpression_NamesTheFileAndTheField()
    {
        var bytes = EngineEditor.Edit(Sample(), (manifest, _) => manifest["inputs"]![0]!["dims"]![1] = "2*(s0");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.SymExprSyntax, e.Code);
        StringAssert.StartsWith(e.Message, "MB1001: e.mbengine: manifest.inputs[0].dims[1]: ");
    }

    [TestMethod]
    [DataRow("[4]", "not a JSON object")]
    [DataRow("{\"name\": \"m\"}", "no schemaVersion")]
    [DataRow("{\"schemaVersion\": \"4\"}", "not a 32-bit integer")]
    [DataRow("{\"schemaVersion\": 4.5}", "not a 32-bit integer")]
    [DataRow("{\"schemaVersion\": 4, \"name\": [}", "")]
    [DataRow("{\"schemaVersion\": 4} {}", "")]
    public void Read_AManifestWithoutAReadableSchemaVersion_IsMB4012(string manifest, string reason)
    {
        // Written directly: EngineEditor parses the manifest, and some of these are no JSON.
        var metadata = SafetensorsFile.Parse(Sample()).Metadata.ToDictionary();
        metadata[EngineFile.ManifestKey] = manifest;
        metadata[EngineFile.ManifestHashKey] = EngineFile.ManifestHash(manifest);
        var bytes = SafetensorsWriter.Write(EngineFileTests.SampleWeights(), metadata);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineMetadataInvalid, e.Code);
        StringAssert.Contains(e.Message, "not valid JSON with a schemaVersion");
        StringAssert.Contains(e.Message, reason);
    }

    [TestMethod]
    public void Read_AnotherSchemaVersion_IsRefusedWhateverTheRestOfTheManifestHolds()
    {
        var file = SafetensorsFile.Parse(Sample());
        var bytes = EngineEditor.Seal(file, """{"name": {"future": [1, 2]}, "schemaVersion": 7}""", file.Metadata[EngineFile.PlanKey]);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(bytes, "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.EngineSchemaUnsupported, e.Code);
        StringAssert.Contains(e.Message, "schema version 7");
    }

    [TestMethod]
    public void Read_AWeightWhoseShapeOverflows_IsRefusedBeforeAnyHashOrAllocation()
    {
        // [2^32, 2^32] U8 elements: the product wraps to 0 in 64 bits, which "matched" an empty data range.
        var header = """{"p_w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""";

        var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineFile.Read(EngineEditor.RawSafetensors(header, []), "e.mbengine", Runtime));

        Assert.AreEqual(DiagnosticCodes.SafetensorsMalformed, e.Code);
        StringAssert.Contains(e.Message, "overflows 64 bits");
    }

    /// <summary>Sets the node at a path like <c>plan.blocks[0].nodes[1].inputs[0].value</c> (the first segment names the document) to null.</summary>
    private static void SetNull(JsonNode root, string path)
    {
        var segments = PathSegment().Matches(path).Select(m => m.Value).Skip(1).ToList();
        var parent = segments.SkipLast(1).Aggregate(root, (node, s) => s.StartsWith('[') ? node[int.Parse(s[1..^1])]! : node[s.TrimStart('.')]!);
        var last = segments[^1];
        if (last.StartsWith('['))
        {
            parent[int.Parse(last[1..^1])] = null;
        }
        else
        {
            parent[last.TrimStart('.')] = null;
        }
    }

    [GeneratedRegex(@" \(torch\.ops\.[a-z_.]+\)")]
    private static partial Regex NodeTargetRemoved();

    [GeneratedRegex(@"\[\d+\]|\.?[A-Za-z0-9_]+")]
    private static partial Regex PathSegment();
}
