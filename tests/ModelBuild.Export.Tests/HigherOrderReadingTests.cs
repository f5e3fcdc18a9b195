using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>What real archives with higher-order operators, symbolic asserts and input mutations read as.</summary>
[TestClass]
public sealed class HigherOrderReadingTests
{
    [TestMethod]
    public void Cond_ReadsBothBranchesAsSubgraphsWithTheirOwnInputs()
    {
        var graph = ModelReader.Read(TestPaths.HopFixture("cond_closure", "model.pt2"));

        var cond = graph.Nodes.Single(n => n.Target == "torch.ops.higher_order.cond");
        var branches = cond.Inputs.Select(i => i.Value).OfType<GraphArg>().ToList();
        CollectionAssert.AreEqual(new[] { "true_graph_0", "false_graph_0" }, branches.Select(b => b.Name).ToList());
        CollectionAssert.AreEqual(new Argument[] { new TensorArg("p_b"), new TensorArg("p_w"), new TensorArg("x") }, branches[0].Graph.Inputs.ToList());
        CollectionAssert.AreEqual(new[] { "torch.ops.aten.matmul.default", "torch.ops.aten.relu.default", "torch.ops.aten.add.Tensor" },
            branches[0].Graph.Nodes.Select(n => n.Target).ToList());
        CollectionAssert.AreEqual(new[] { "p_b", "p_w", "x" }, ((TensorsArg)cond.Inputs[3].Value).Names.ToList(), "the closed-over weights are operands");
    }

    [TestMethod]
    public void SetGrad_TheRegionsSubgraphKeepsTheMetasOfItsValues()
    {
        var graph = ModelReader.Read(TestPaths.HopFixture("set_grad", "model.pt2"));

        var region = graph.Nodes.Single(n => n.Target == "torch.ops.higher_order.wrap_with_set_grad_enabled").Subgraphs().Single();

        CollectionAssert.AreEquivalent(new[] { "linear", "sigmoid", "mul" }, region.Values.Keys.ToList());
        Assert.AreEqual(TensorDType.F32, region.Values["mul"].DType);
        CollectionAssert.AreEqual(new[] { Dim.Symbolic("s77"), Dim.Of(16) }, region.Values["mul"].Sizes.ToList());
        Assert.IsFalse(graph.Values.ContainsKey("sigmoid"), "the subgraph's values are its own, not the graph's");
    }

    [TestMethod]
    public void Asserts_ReadAsSymBoolsFeedingAssertScalar()
    {
        var graph = ModelReader.Read(TestPaths.HopFixture("asserts", "model.pt2"));

        var ge = graph.Nodes.Single(n => n.Target == "_operator.ge");
        var assertion = graph.Nodes.First(n => n.Target == "torch.ops.aten._assert_scalar.default");
        Assert.AreEqual(new SymBoolArg(null, "ge_3"), ge.Outputs.Single());
        Assert.AreEqual(new SymBoolArg(null, "ge_3"), assertion.Inputs[0].Value);
        Assert.AreEqual("u0", graph.SymIntValues["item"]);
    }

    [TestMethod]
    public void InputMutation_TheFunctionalProgramsSignatureNamesTheNewValue()
    {
        var graph = ModelReader.Read(TestPaths.HopFixture("input_mutation", "model.core.pt2"));

        CollectionAssert.AreEqual(new[] { "x" }, graph.MutatedInputs.ToList());
        CollectionAssert.AreEqual(new[] { "mul_6", "add_3" }, graph.Outputs.Select(o => o.Name).ToList(), "the user output, then x's new value");
        CollectionAssert.AreEqual(new[] { "mul_6" }, graph.UserOutputs.Select(o => o.Name).ToList());
    }
}
