using ModelBuild.Compiler.Passes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Runtime.Torch.Execution;
using ModelBuild.Tests;
using static ModelBuild.Compiler.Tests.HandBuiltGraph;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>In-place ATen ops become functional ones, later reads of the mutated tensor read the result, and unsafe mutations fail.</summary>
[TestClass]
public sealed class FunctionalizationTests
{
    private const string Aten = "torch.ops.aten.";

    [TestMethod]
    public void InPlaceOps_BecomeFunctional_AndLaterReadsAndOutputsOfTheMutatedTensor_ReadTheResult()
    {
        // a = x + 1; a.relu_() (result not reassigned); a.add_(x); y = a * 2; outputs (y, a).
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Node(Aten + "add.Tensor", "a", ("self", T("x")), ("other", new IntArg(1)))
            .Node(Aten + "relu_.default", "relu_", ("self", T("a")))
            .Node(Aten + "add_.Tensor", "add_", ("self", T("a")), ("other", T("x")))
            .Node(Aten + "mul.Tensor", "y", ("self", T("a")), ("other", new IntArg(2)))
            .Build("y", "a");

        var result = Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2");

        CollectionAssert.AreEqual(new[] { "add.Tensor", "relu.default", "add.Tensor", "mul.Tensor" }, result.Nodes.Select(n => n.Target[Aten.Length..]).ToArray());
        Assert.AreEqual(T("a"), Input(result.Nodes[1], "self"));
        Assert.AreEqual(T("relu_"), Input(result.Nodes[2], "self"), "the second mutation reads the first one's result");
        Assert.AreEqual(T("add_"), Input(result.Nodes[3], "self"), "a read after two mutations reads the last result");
        CollectionAssert.AreEqual(new[] { "y", "add_" }, result.Outputs.Select(o => o.Name).ToArray());

        using var scope = NewDisposeScope();
        var x = tensor(new[] { -3f, -1f, 0.5f, 2f });
        var outputs = Execute(result, x);
        var a = (x + 1).relu() + x;
        Assert.IsTrue(outputs[0].allclose(a * 2), "y");
        Assert.IsTrue(outputs[1].allclose(a), "a");
    }

    [TestMethod]
    public void DropoutInPlace_BecomesDropoutOfItsInput_AndIsIdentityInEval()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "3")
            .Node(Aten + "relu.default", "r", ("self", T("x")))
            .Node(Aten + "dropout_.default", "dropout_", ("self", T("r")), ("p", new FloatArg(0.2)), ("train", new BoolArg(false)))
            .Build("dropout_");

        var result = Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2");

        Assert.AreEqual(Aten + "dropout.default", result.Nodes[1].Target);
        Assert.AreEqual(T("r"), Input(result.Nodes[1], "input"));
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1f, 2f, 3f });
        Assert.IsTrue(Execute(result, x)[0].allclose(x.relu(), rtol: 0, atol: 0));
    }

    [TestMethod]
    public void GraphWithoutInPlaceOps_IsReturnedAsItIs()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "3")
            .Node(Aten + "__and__.Tensor", "y", ("self", T("x")), ("other", T("x")))
            .Build("y");

        Assert.AreSame(graph, Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2"));
    }

    [TestMethod]
    public void InPlaceOpWithoutAFunctionalKernel_StaysForTheLoweringCheckToReport()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "3")
            .Node(Aten + "relu.default", "r", ("self", T("x")))
            .Node(Aten + "made_up_.default", "m", ("self", T("r")))
            .Build("m");

        var result = Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2");

        Assert.AreEqual(Aten + "made_up_.default", result.Nodes[1].Target);
        var e = Assert.ThrowsExactly<ModelBuildException>(() => LoweringCheck.Run(result, OpKernels.Unsupported, "m.pt2"));
        StringAssert.Contains(e.Message, "torch.ops.aten.made_up_.default: 1 node (m)");
    }

    [TestMethod]
    public void MutatingAGraphInput_MakesItsFinalValueAnOutputWrittenBackToTheInput()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "3")
            .Node(Aten + "relu_.default", "relu_", ("self", T("x")))
            .Node(Aten + "add_.Tensor", "add_", ("self", T("x")), ("other", new IntArg(1)))
            .Node(Aten + "mul.Tensor", "mul", ("self", T("x")), ("other", new IntArg(2)))
            .Build("mul");

        var functional = Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2");

        CollectionAssert.AreEqual(new[] { "mul", "add_" }, functional.Outputs.Select(o => o.Name).ToList(), "the user output, then x's value after both mutations");
        CollectionAssert.AreEqual(new[] { "x" }, functional.MutatedInputs.ToList());
        CollectionAssert.AreEqual(new[] { "mul" }, functional.UserOutputs.Select(o => o.Name).ToList());
        CollectionAssert.AreEqual(new[] { Aten + "relu.default", Aten + "add.Tensor", Aten + "mul.Tensor" }, functional.Nodes.Select(n => n.Target).ToList());
        Assert.AreEqual(new TensorArg("relu_"), functional.Nodes[1].Inputs[0].Value, "the second mutation reads the first's result");
        Assert.AreEqual(new TensorArg("add_"), functional.Nodes[2].Inputs[0].Value, "later reads see the mutated value");
    }

    [TestMethod]
    public void MutatingAViewOfAGraphInput_FailsNamingTheInputAndTheView()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Node(Aten + "select.int", "row", ("self", T("x")), ("dim", new IntArg(0)), ("index", new IntArg(1)))
            .Node(Aten + "mul_.Tensor", "mul_", ("self", T("row")), ("other", new IntArg(2)))
            .Build("mul_");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.InPlaceMutatesInput, e.Code);
        StringAssert.Contains(e.Message, "mutates the graph input 'x' through its view 'row' in place");
    }

    [TestMethod]
    public void MutatingAWeight_FailsNamingTheWeight()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "3")
            .Weight("b_running_mean", zeros(3))
            .Node(Aten + "add_.Tensor", "add_", ("self", T("b_running_mean")), ("other", T("x")))
            .Build("add_");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.InPlaceMutatesWeight, e.Code);
        StringAssert.Contains(e.Message, "mutates the weight 'b_running_mean'");
    }

    [TestMethod]
    public void MutatingATensorWhoseEarlierViewIsReadLater_FailsNamingTheViewAndItsReader()
    {
        // a = relu(x); v = a.transpose(0, 1); a.add_(1); y = v * 2: v must see the mutation, a functional add would not.
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Node(Aten + "relu.default", "a", ("self", T("x")))
            .Node(Aten + "transpose.int", "v", ("self", T("a")), ("dim0", new IntArg(0)), ("dim1", new IntArg(1)))
            .Node(Aten + "add_.Tensor", "add_", ("self", T("a")), ("other", new IntArg(1)))
            .Node(Aten + "mul.Tensor", "y", ("self", T("v")), ("other", new IntArg(2)))
            .Build("y", "add_");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.InPlaceMutatesAliasedTensor, e.Code);
        StringAssert.Contains(e.Message, "mutates 'a', and 'v', which shares its storage, is read after it by node 'y' (torch.ops.aten.mul.Tensor) at model.py:4");
    }

    [TestMethod]
    public void MutatingAViewWhoseBaseIsAGraphOutput_Fails()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Node(Aten + "relu.default", "a", ("self", T("x")))
            .Node(Aten + "view.default", "v", ("self", T("a")), ("size", new IntsArg([6])))
            .Node(Aten + "relu_.default", "relu_", ("self", T("v")))
            .Build("a", "relu_");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.InPlaceMutatesAliasedTensor, e.Code);
        StringAssert.Contains(e.Message, "'a', which shares its storage, is read after it by the graph's outputs");
    }

    [TestMethod]
    public void MutatingATensorWhoseViewsAreAllReadBefore_IsFunctionalized()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Node(Aten + "relu.default", "a", ("self", T("x")))
            .Node(Aten + "transpose.int", "v", ("self", T("a")), ("dim0", new IntArg(0)), ("dim1", new IntArg(1)))
            .Node(Aten + "sum.default", "s", ("self", T("v")))
            .Node(Aten + "add_.Tensor", "add_", ("self", T("a")), ("other", T("s")))
            .Build("add_");

        var result = Functionalization.Run(graph, OpKernels.IsSupported, "m.pt2");

        Assert.AreEqual(Aten + "add.Tensor", result.Nodes[3].Target);
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1f, 2f, 3f, -4f, 5f, 6f }, [2, 3]);
        Assert.IsTrue(Execute(result, x)[0].allclose(x.relu() + x.relu().sum()));
    }

    public static IEnumerable<object[]> ExtraTrainingPrograms => TestPaths.ExtraModels.Select(m => new object[] { m[0] });

    [TestMethod]
    [DynamicData(nameof(ExtraTrainingPrograms))]
    public void ExtraFixtures_TrainingIR_HasNoInPlaceOpLeft_AndEveryOpHasAKernel(string model)
    {
        var graph = ModelReader.Read(TestPaths.Fixture(model, "model.pt2"));

        var result = Functionalization.Run(graph, OpKernels.IsSupported, "model.pt2");

        Assert.IsFalse(result.Nodes.Any(n => Functionalization.InPlace(n.Target) is not null), string.Join(", ", result.Nodes.Select(n => n.Target).Distinct()));
        LoweringCheck.Run(result, OpKernels.Unsupported, "model.pt2");
        Assert.HasCount(graph.Nodes.Count, result.Nodes);
    }

    private static Argument Input(GraphNode node, string name) => node.Inputs.Single(a => a.Name == name).Value;

    private static Tensor[] Execute(ModelGraph graph, params Tensor[] inputs)
    {
        var block = PlanBuilder.WholeGraph(graph);
        return new GraphExecutor(block.Nodes!, block.Inputs, block.Outputs, new Dictionary<string, Tensor>(), [], CPU).Run(inputs);
    }
}
