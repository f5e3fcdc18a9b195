using System.Text.Json;
using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Runtime.Torch.Execution;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>
/// The proof that matters: every fixture's graph (public and extra), as the export front end reads it from the training IR
/// (model.pt2) and the core ATen IR (model.core.pt2), runs through a trivial plan (nodes in order, nothing freed early)
/// and reproduces every case PyTorch computed, within the fixture's tolerance.
/// </summary>
[TestClass]
public sealed class FixtureExecutionTests
{
    /// <summary>model.pt2 and model.core.pt2 of every public and extra fixture that has them.</summary>
    public static IEnumerable<object[]> Programs =>
        TestPaths.AllModelsWithExtra.SelectMany(m => new[] { "model.pt2", "model.core.pt2" }
            .Where(f => TestPaths.HasFixture((string)m[0], f)).Select(f => new[] { m[0], f }));

    [TestMethod]
    [DynamicData(nameof(Programs))]
    public void EveryCase_MatchesPyTorchWithinTheFixtureTolerance(string model, string file)
    {
        // The training IR of torchvision models mutates in place (relu_, add_): the compiler's first pass makes it functional.
        var graph = Functionalization.Run(ModelReader.Read(TestPaths.Fixture(model, file)), OpKernels.IsSupported, file);
        using var fixture = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(model, "fixture.json")));
        var atol = fixture.RootElement.GetProperty("atol").GetDouble();
        var rtol = fixture.RootElement.GetProperty("rtol").GetDouble();
        var cases = SafetensorsFile.Read(TestPaths.Fixture(model, "cases.safetensors"));
        var unsupported = graph.Nodes.Select(n => n.Target).Where(t => !OpKernels.IsSupported(t)).Distinct().ToList();
        Assert.IsEmpty(unsupported, $"unsupported: {string.Join(", ", unsupported)}");

        var weights = graph.Weights.ToDictionary(
            w => w.ValueName,
            w => TorchTensorConversion.ToTensor(w.Meta.DType, [.. w.Meta.Sizes.Select(d => d.Value!.Value)], w.Read().Span));
        var executor = new GraphExecutor(graph.Nodes, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)], weights, [], CPU);

        var names = cases.Tensors.Keys.Where(k => k.EndsWith(".in.0", StringComparison.Ordinal)).Select(k => k[..^5]).Order(StringComparer.Ordinal).ToList();
        Assert.IsNotEmpty(names);
        foreach (var name in names)
        {
            using var scope = NewDisposeScope();
            var inputs = Enumerable.Range(0, graph.Inputs.Count).Select(i => cases.ToTensor($"{name}.in.{i}")).ToArray();

            var outputs = executor.Run(inputs);

            Assert.HasCount(graph.Outputs.Count, outputs, name);
            for (var j = 0; j < outputs.Length; j++)
            {
                var expected = cases.ToTensor($"{name}.out.{j}");
                CollectionAssert.AreEqual(expected.shape, outputs[j].shape, $"case {name} output {j} shape");
                Assert.AreEqual(expected.dtype, outputs[j].dtype, $"case {name} output {j} dtype");
                using var e = expected.to(ScalarType.Float64);
                using var a = outputs[j].to(ScalarType.Float64);
                var excess = ((a - e).abs() - (rtol * e.abs()) - atol).max().item<double>();
                var maxAbs = (a - e).abs().max().item<double>();
                Assert.IsLessThanOrEqualTo(0, excess, $"case {name} output {j}: max abs error {maxAbs} beyond atol {atol} + rtol {rtol}");
            }
        }
    }
}
