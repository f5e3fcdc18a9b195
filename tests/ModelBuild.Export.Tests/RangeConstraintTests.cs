using System.Text.Json.Nodes;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Export.Tests;

[TestClass]
public sealed class RangeConstraintTests
{
    [TestMethod]
    [DataRow("null")]
    [DataRow("\"int_oo\"")]
    [DataRow("9223372036854775806")]
    [DataRow("1e+300")]
    public void UnboundedMax_AsPyTorchWritesIt_IsANullMax(string maxJson)
    {
        using var edit = new FixtureEditor();
        var path = edit.RewriteProgram("seed_linear_dynamic", p => p["range_constraints"]!["s31"]!["max_val"] = JsonNode.Parse(maxJson));

        var graph = ModelReader.Read(path);

        Assert.AreEqual(new SymbolRange(1, null), graph.Symbols["s31"]);
    }

    [TestMethod]
    public void ExpressionKeys_BecomeRelations_AndPlainSymbolKeysSymbols()
    {
        using var edit = new FixtureEditor();
        var path = edit.RewriteProgram("seed_linear_dynamic", p =>
            p["range_constraints"]!["Mul(Integer(2), Symbol('s31', positive=True, integer=True))"] = new JsonObject { ["min_val"] = 2, ["max_val"] = 128 });

        var graph = ModelReader.Read(path);

        CollectionAssert.AreEqual(new[] { "s31" }, graph.Symbols.Keys.ToList());
        CollectionAssert.AreEqual(new[] { new RelationRange("2*s31", 2, 128) }, graph.Relations.ToList());
    }
}
