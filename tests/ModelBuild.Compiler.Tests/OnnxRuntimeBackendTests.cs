using System.Collections.Concurrent;
using ModelBuild.Compiler.Backends;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Lowering.Onnx;
using ModelBuild.Runtime;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// The onnxruntime backend end to end: every public and extra fixture compiles with --backend onnxruntime (ONNX Runtime
/// where nodes lower, TorchSharp for the rest) and with auto (both built, validated and measured, the faster kept), and
/// reproduces PyTorch's cases; partitions hand sym-ints and tensors across block boundaries.
/// </summary>
[TestClass]
public sealed class OnnxRuntimeBackendTests
{
    private static readonly ConcurrentDictionary<(string, string), Lazy<CompiledEngine>> Engines = new();

    public static IEnumerable<object[]> ModelsAndBackends =>
        TestPaths.AllModelsWithExtra.SelectMany(m => new[] { "onnxruntime", "auto" }.Select(b => new object[] { m[0], b }));

    [TestMethod]
    [DynamicData(nameof(ModelsAndBackends))]
    public void Compile_ValidatesAndReproducesEveryCaseOfTheFixture(string model, string backend)
    {
        var engine = Compile(model, backend);

        var cases = Validation.CasesFile.Read(Engine.Safetensors.SafetensorsFile.Read(TestPaths.Fixture(model, "cases.safetensors")), "cases");
        CollectionAssert.IsSubsetOf(cases.Select(c => c.Name).ToList(), engine.Manifest.Validation.Where(v => v.ComparedWith == "cases").Select(v => v.Name).ToList());
        if (engine.Manifest.Symbols.Count > 0)
        {
            CollectionAssert.IsSubsetOf(new[] { "min", "opt", "max" }, engine.Manifest.Validation.Where(v => v.ComparedWith == "reference").Select(v => v.Name).ToList());
        }
        Assert.AreEqual(backend, engine.Manifest.BackendSelection!.Requested);
    }

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModelsWithExtra), typeof(TestPaths))]
    public void OnnxRuntime_RunsMostOfEveryFixture_AndEveryPublicFixtureWhole(string model)
    {
        var engine = Compile(model, "onnxruntime");

        var blocks = EngineFile.Read(engine.Bytes, model, CompiledModel.RuntimeVersion).Plan.Blocks;
        var onOnnx = blocks.Where(b => b.Backend == "onnxruntime").Sum(b => b.OpCount);
        Assert.IsGreaterThan(blocks.Sum(b => b.OpCount) * 0.9, (double)onOnnx, string.Join(", ", blocks.Select(b => $"{b.Backend} {b.OpCount}")));
        if (Directory.Exists(Path.Combine(TestPaths.Fixtures, model)))
        {
            Assert.AreEqual("onnxruntime", blocks.Single().Backend);
        }
    }

    [TestMethod]
    [DataRow("transformer_block")]
    [DataRow("small_cnn")]
    [DataRow("gru")]
    public void Auto_MeasuresEveryCandidateAtOpt_AndKeepsTheFastest(string model)
    {
        var engine = Compile(model, "auto");
        var selection = engine.Manifest.BackendSelection!;

        // The onnxruntime plan again on one intra-op thread, where there is more than one processor to compare with.
        string[] expected = Environment.ProcessorCount > 1 ? ["torch", "onnxruntime", "onnxruntime-1thread"] : ["torch", "onnxruntime"];
        CollectionAssert.AreEquivalent(expected, selection.Candidates.Select(c => c.Backend).ToList());
        Assert.IsTrue(selection.Candidates.All(c => c.OptMicroseconds > 0));
        Assert.AreEqual(selection.Candidates.MinBy(c => c.OptMicroseconds)!.Backend, selection.Chosen);
        var threads = EngineFile.Read(engine.Bytes, model, CompiledModel.RuntimeVersion).Plan.Blocks
            .Where(b => b.Backend == "onnxruntime").Select(b => b.Threads).Distinct().ToList();
        CollectionAssert.AreEqual(selection.Chosen switch { "onnxruntime-1thread" => new int?[] { 1 }, "onnxruntime" => new int?[] { null }, _ => Array.Empty<int?>() }, threads);
    }

    /// <summary>A block's thread count is the most it uses: 1 runs as the default does; 0 or less is a damaged plan, refused at load.</summary>
    [TestMethod]
    public void OnnxRuntimeBlockThreads_OneRunsAsTheDefault_NoneIsRefusedAtLoad()
    {
        var engine = EngineFile.Read(Compile("mlp", "onnxruntime").Bytes, "mlp", CompiledModel.RuntimeVersion);
        byte[] WithThreads(int? threads) => EngineFile.Write(engine.Manifest, engine.Plan with { Blocks = [.. engine.Plan.Blocks.Select(b => b with { Threads = threads })] },
            [.. engine.Tensors.Tensors.Values.Select(e => new SafetensorsTensor(e.Name, e.DType, e.Shape, engine.Tensors.Data(e.Name)))]);
        var cases = SafetensorsFile.Read(TestPaths.Fixture("mlp", "cases.safetensors"));
        var input = HostTensor.FromBytes(cases.Entry("opt.in.0").DType, cases.Entry("opt.in.0").Shape, cases.Data("opt.in.0").ToArray());

        using var pooled = CompiledModel.Load(WithThreads(null), "pooled");
        using var single = CompiledModel.Load(WithThreads(1), "single");
        using var expected = pooled.Run(input).Single();
        using var actual = single.Run(input).Single();

        CollectionAssert.AreEqual(expected.Bytes.ToArray(), actual.Bytes.ToArray());
        foreach (var bad in new int?[] { 0, -3 })
        {
            var error = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(WithThreads(bad), "bad"));
            Assert.AreEqual(DiagnosticCodes.PlanInconsistent, error.Code);
            StringAssert.Contains(error.Message, $"{bad} threads");
        }
    }

    /// <summary>Views forced onto TorchSharp read sizes that ONNX Runtime blocks computed: sym-ints cross as 0-d int64 values.</summary>
    [TestMethod]
    public void SymIntsAndTensorsCrossBetweenOnnxRuntimeAndTorchBlocks()
    {
        var file = TestPaths.Fixture("gpt2_tiny", "model.pt2");

        var engine = ModelCompiler.Compile(new CompileOptions(file)
        {
            Backend = "onnxruntime",
            TorchExecutedOps = ["aten.view", "aten.layer_norm"],
            MinBlockSize = 1,
            CasesPath = TestPaths.Fixture("gpt2_tiny", "cases.safetensors"),
        });

        var blocks = EngineFile.Read(engine.Bytes, file, CompiledModel.RuntimeVersion).Plan.Blocks;
        Assert.IsGreaterThan(4, blocks.Count(b => b.Backend == "torch"));
        Assert.IsTrue(blocks.Where(b => b.Backend == "torch").SelectMany(b => b.Nodes!).Any(n => n.Inputs.Any(a => a.Value is SymIntsArg s && s.Values.Any(v => v.Name is not null))),
            "some torch block reads a size");
        var produced = blocks.Where(b => b.Backend == "onnxruntime").SelectMany(b => b.Outputs).ToHashSet();
        Assert.IsTrue(blocks.Where(b => b.Backend == "torch").SelectMany(b => b.Inputs).Any(produced.Contains), "a torch block reads what an ONNX Runtime block made");
    }

    [TestMethod]
    public void OnnxRuntime_ForCuda_IsACodedError_AndAutoOnCudaIsTorchAlone()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Candidates(new CompileOptions("m.pt2") { Backend = "onnxruntime" }, "cuda", "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.OnnxRuntimeDeviceUnsupported, e.Code);
        Assert.AreEqual("torch", ModelCompiler.Candidates(new CompileOptions("m.pt2"), "cuda", "m.pt2").Single().Name);
        string[] onCpu = Environment.ProcessorCount > 1 ? ["torch", "onnxruntime", "onnxruntime-1thread"] : ["torch", "onnxruntime"];
        CollectionAssert.AreEqual(onCpu, ModelCompiler.Candidates(new CompileOptions("m.pt2"), "cpu", "m.pt2").Select(c => c.Name).ToList());
    }

    [TestMethod]
    public void Partition_SaysWhyANodeStaysOffOnnxRuntime()
    {
        var partition = ModelCompiler.Partition(new CompileOptions(TestPaths.Fixture("small_cnn", "model.pt2")) { Precision = "fp16" });

        var conv = partition.NotRun.First(v => v.Node.Target == "torch.ops.aten.conv2d.default");
        Assert.AreEqual("onnxruntime", conv.Backend);
        StringAssert.Contains(conv.Reason, "F16");
        Assert.IsTrue(partition.Blocks.Any(b => b.Backend == "torch"));
    }

    [TestMethod]
    public void Unsupported_OfATargetWithoutARule_SaysSo()
    {
        var graph = ModelBuild.Export.ModelReader.Read(TestPaths.Fixture("mlp", "model.pt2"));
        var node = graph.Nodes[0] with { Target = "torch.ops.aten.made_up.default" };

        Assert.AreEqual("no ONNX lowering rule for this operator", new OnnxRuntimeBackendCompiler("m").Unsupported(node, graph));
        Assert.IsNull(new OnnxRuntimeBackendCompiler("m").Unsupported(graph.Nodes[0], graph));
        Assert.IsTrue(OnnxLowering.Targets.Contains(graph.Nodes[0].Target));
    }

    private static CompiledEngine Compile(string model, string backend) =>
        Engines.GetOrAdd((model, backend), k => new Lazy<CompiledEngine>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(k.Item1, "model.pt2"))
        {
            Name = k.Item1,
            Backend = k.Item2,
            CasesPath = TestPaths.Fixture(k.Item1, "cases.safetensors"),
        }))).Value;
}
