using System.Text.Json;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Export;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// The origin bug: ranges lost on save. An engine written, read back and inspected again carries exactly the ranges and
/// relations of the archive it was compiled from.
/// </summary>
[TestClass]
public sealed class EngineRoundTripTests
{
    [TestMethod]
    [DynamicData(nameof(FixtureEngines.ModelsAndFormats), typeof(FixtureEngines))]
    public void Engine_ReadBack_CarriesExactlyTheArchiveRangesAndRelations(string model, string format)
    {
        var source = ModelReader.Read(TestPaths.Fixture(model, format));
        var bytes = FixtureEngines.Get(model, format).Bytes;

        var manifest = EngineFile.Read(bytes, model, CompiledModel.RuntimeVersion).Manifest;
        using var loaded = CompiledModel.Load(new MemoryStream(bytes));

        foreach (var m in new[] { manifest, loaded.Manifest })
        {
            CollectionAssert.AreEquivalent(source.Symbols.Keys.ToList(), m.Symbols.Keys.ToList());
            foreach (var (symbol, range) in source.Symbols)
            {
                Assert.AreEqual(range.Min, m.Symbols[symbol].Min, symbol);
                Assert.AreEqual(range.Max, m.Symbols[symbol].Max, symbol);
            }
            CollectionAssert.AreEquivalent(
                source.Relations.Select(r => (r.Expr, r.Min, r.Max)).ToList(),
                m.Relations.Select(r => (r.Expr, r.Min, (long?)r.Max)).ToList());
            CollectionAssert.AreEqual(source.Inputs.Select(i => string.Join(",", i.Meta.Sizes)).ToList(), m.Inputs.Select(i => string.Join(",", i.Dims)).ToList());
            CollectionAssert.AreEqual(source.Outputs.Select(o => string.Join(",", o.Meta.Sizes)).ToList(), m.Outputs.Select(o => string.Join(",", o.Dims)).ToList());
        }
    }

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModelsWithExtra), typeof(TestPaths))]
    public void Engine_RangesMatchWhatPyTorchPrinted(string model)
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(model, "fixture.json")));
        var manifest = FixtureEngines.Get(model, "model.pt2").Manifest;

        var printed = fixture.RootElement.GetProperty("range_constraints").EnumerateObject()
            .Select(p => (p.Name, p.Value.GetProperty("min").GetInt64(), p.Value.GetProperty("max").GetInt64())).ToList();
        var carried = manifest.Symbols.Select(s => (s.Key, s.Value.Min, s.Value.Max))
            .Concat(manifest.Relations.Select(r => (r.Expr, r.Min, r.Max))).ToList();

        CollectionAssert.AreEquivalent(printed, carried);
    }

    [TestMethod]
    public void Load_AnEngineWithAWeightByteChanged_FailsWithPayloadTampered()
    {
        var bytes = (byte[])FixtureEngines.Get("mlp", "model.pt2").Bytes.Clone();
        bytes[^3] ^= 0x40;

        var e = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(bytes, "mlp.mbengine"));

        Assert.AreEqual(DiagnosticCodes.EnginePayloadTampered, e.Code);
        StringAssert.Contains(e.Message, "mlp.mbengine");
    }

    [TestMethod]
    public void Load_FromAFile_KeepsTheManifest()
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelbuild-test-{Guid.NewGuid():N}.mbengine");
        File.WriteAllBytes(path, FixtureEngines.Get("seed_linear_static", "model.pt2").Bytes);
        try
        {
            using var model = CompiledModel.Load(path);

            Assert.AreEqual("seed_linear_static", model.Manifest.Name);
            Assert.IsEmpty(model.Manifest.Symbols);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Load_AResourceTheAssemblyLacks_SaysWhichItHas()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(typeof(EngineRoundTripTests).Assembly, "no-such.mbengine"));

        Assert.AreEqual(DiagnosticCodes.EngineResourceNotFound, e.Code);
        StringAssert.Contains(e.Message, "no-such.mbengine");
    }
}
