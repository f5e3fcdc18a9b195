using System.Collections.Concurrent;
using System.IO.Compression;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// The models of tests/fixtures/hop, one per feature real models need (higher-order operators, symbolic asserts, input
/// mutation, dead random nodes, large outputs), compiled from their archives and checked against PyTorch's outputs.
/// </summary>
[TestClass]
public sealed class HopFixtureTests
{
    private static readonly ConcurrentDictionary<(string, string), Lazy<CompiledEngine>> Engines = new();

    public static IEnumerable<object[]> ModelsAndFormats =>
        from model in new[] { "cond_closure", "set_grad", "autocast", "map_rows", "while_loop", "asserts", "input_mutation", "dead_rand", "scaled_outputs" }
        from format in new[] { "model.pt2", "model.core.pt2" }
        select new object[] { model, format };

    [TestMethod]
    [DynamicData(nameof(ModelsAndFormats))]
    public void Compile_ValidatesAgainstTheReference_AndEveryCaseOfPyTorch(string model, string format)
    {
        var engine = Engine(model, format);
        var cases = CasesFile.Read(SafetensorsFile.Read(TestPaths.HopFixture(model, "cases.safetensors")), "cases");

        var validated = engine.Manifest.Validation;
        CollectionAssert.IsSubsetOf(cases.Select(c => c.Name).ToList(), validated.Where(v => v.ComparedWith == "cases").Select(v => v.Name).ToList());
        CollectionAssert.IsSubsetOf(new[] { "min", "opt", "max" }, validated.Where(v => v.ComparedWith == "reference").Select(v => v.Name).ToList());
        Assert.IsTrue(validated.All(v => v.ScaledError <= 1e-4 && v.CosineSimilarity >= 0.9999), string.Join("; ", validated));
    }

    [TestMethod]
    [DataRow("cond_closure", "torch.ops.higher_order.cond")]
    [DataRow("autocast", "torch.ops.higher_order.wrap_with_autocast")]
    [DataRow("map_rows", "torch.ops.higher_order.map_impl")]
    [DataRow("while_loop", "torch.ops.higher_order.while_loop")]
    public void TheEngineRunsTheHigherOrderOperator_WithItsSubgraphsInThePlan(string model, string target)
    {
        var plan = EngineFile.Read(Engine(model, "model.pt2").Bytes, model, CompiledModel.RuntimeVersion).Plan;

        var node = plan.Blocks.SelectMany(b => b.Nodes ?? []).Single(n => n.Target == target);
        var subgraphs = node.Subgraphs().ToList();
        Assert.IsNotEmpty(subgraphs);
        Assert.IsTrue(subgraphs.All(s => s.Nodes.Count > 0 && s.Outputs.Count > 0), "the subgraphs travel in the plan with their nodes");
    }

    [TestMethod]
    public void SetGrad_TheRegionIsInlined_SoTheWholeModelIsOneOnnxRuntimeBlock_ThatComputesWhatPyTorchDid()
    {
        var casesPath = TestPaths.HopFixture("set_grad", "cases.safetensors");
        var compiled = ModelCompiler.Compile(new CompileOptions(TestPaths.HopFixture("set_grad", "model.pt2")) { Backend = "onnxruntime", CasesPath = casesPath });
        var torchPlan = EngineFile.Read(Engine("set_grad", "model.pt2").Bytes, "set_grad", CompiledModel.RuntimeVersion).Plan;
        var cases = SafetensorsFile.Read(casesPath);
        using var engine = CompiledModel.Load(compiled.Bytes, "set_grad");
        using var scope = NewDisposeScope();

        Assert.AreEqual("onnxruntime", EngineFile.Read(compiled.Bytes, "set_grad", CompiledModel.RuntimeVersion).Plan.Blocks.Single().Backend);
        Assert.IsFalse(torchPlan.Blocks.SelectMany(b => b.Nodes ?? []).WithNested().Any(n => n.Target.StartsWith("torch.ops.higher_order.", StringComparison.Ordinal)),
            "the TorchSharp plan runs the region's nodes as its own too");
        foreach (var name in new[] { "min", "opt", "max" })
        {
            var y = engine.Run(cases.ToTensor($"{name}.in.0")).Single();
            Assert.IsTrue(OutputComparison.Of(y, cases.ToTensor($"{name}.out.0")).Meets(ValidationCriteria.For("fp32", null)), name);
        }
    }

    [TestMethod]
    public void Cond_TakesEachBranchAsPyTorchDid()
    {
        var cases = SafetensorsFile.Read(TestPaths.HopFixture("cond_closure", "cases.safetensors"));
        using var engine = CompiledModel.Load(Engine("cond_closure", "model.pt2").Bytes, "cond_closure");
        using var scope = NewDisposeScope();

        foreach (var (name, positive) in new[] { ("max", true), ("false_max", false) })
        {
            var x = cases.ToTensor($"{name}.in.0");
            Assert.AreEqual(positive, x.sum().item<float>() > 0, $"case {name} takes the {(positive ? "true" : "false")} branch");
            var y = engine.Run(x).Single();
            Assert.IsTrue(OutputComparison.Of(y, cases.ToTensor($"{name}.out.0")).Meets(ValidationCriteria.For("fp32", null)), name);
        }
    }

    [TestMethod]
    public void Autocast_RunsTheRegionInBfloat16_AsPyTorchDid()
    {
        var cases = SafetensorsFile.Read(TestPaths.HopFixture("autocast", "cases.safetensors"));
        using var engine = CompiledModel.Load(Engine("autocast", "model.pt2").Bytes, "autocast");
        using var scope = NewDisposeScope();
        var x = cases.ToTensor("max.in.0");
        var expected = cases.ToTensor("max.out.0");

        var y = engine.Run(x).Single();

        // The same model in fp32 throughout differs from PyTorch's by bf16 rounding; the engine does not.
        Assert.AreEqual(0, (y - expected).abs().max().item<float>(), 1e-6);
    }

    [TestMethod]
    public void InputMutation_TheCallersTensorHoldsWhatPyTorchsFunctionalGraphWrites()
    {
        // model.pt2 keeps x.add_(1) (ModelBuild functionalizes it); model.core.pt2 is PyTorch's functional form, whose
        // signature names the new value of x (USER_INPUT_MUTATION). Both engines must leave the same x behind.
        var cases = SafetensorsFile.Read(TestPaths.HopFixture("input_mutation", "cases.safetensors"));
        using var training = Loaded("model.pt2");
        using var functional = Loaded("model.core.pt2");
        using var scope = NewDisposeScope();
        var x = cases.ToTensor("opt.in.0");
        var (a, b) = (x.clone(), x.clone());

        var y = training.Run(a).Single();
        functional.Run(b);

        Assert.IsTrue(OutputComparison.Of(y, cases.ToTensor("opt.out.0")).Meets(ValidationCriteria.For("fp32", null)), "the output PyTorch computed from the mutated x");
        Assert.IsFalse(a.allclose(x), "x was written");
        Assert.IsTrue(OutputComparison.Of(a, b).Meets(ValidationCriteria.For("fp32", null)), "the x PyTorch's functional graph writes");

        var host = HostTensor.From<float>(x.data<float>().ToArray(), x.shape);
        training.Run(host);
        CollectionAssert.AreEqual(a.data<float>().ToArray(), host.ToArray<float>(), "a host tensor is written too");

        static CompiledModel Loaded(string format)
        {
            var compiled = Engine("input_mutation", format);
            CollectionAssert.AreEqual(new[] { "x" }, compiled.Manifest.MutatedInputs.ToList(), format);
            Assert.HasCount(1, compiled.Manifest.Outputs, $"{format}: the new value of x is not an output");
            return CompiledModel.Load(compiled.Bytes, format);
        }
    }

    [TestMethod]
    public void InputMutation_ValidationComparesTheInputsAfterTheCall_WithTheCasesMutatedTensors()
    {
        using var engine = CompiledModel.Load(Engine("input_mutation", "model.pt2").Bytes, "input_mutation");
        var fixture = SafetensorsFile.Read(TestPaths.HopFixture("input_mutation", "cases.safetensors"));
        using var scope = NewDisposeScope();
        var x = fixture.ToTensor("opt.in.0");
        var after = x.clone();
        engine.Run(after);
        var right = CasesWith(fixture, after);
        var wrong = CasesWith(fixture, after + 1e-2f);
        var validator = new EngineValidator(engine, _ => throw new InvalidOperationException("no reference points"), "reference", null, ValidationCriteria.For("fp32", null), "cases");

        var passed = validator.Validate([], null, SafetensorsFile.Parse(right), "right.safetensors");
        var e = Assert.ThrowsExactly<ModelBuildException>(() => validator.Validate([], null, SafetensorsFile.Parse(wrong), "wrong.safetensors"));

        Assert.AreEqual("opt", passed.Single().Name);
        Assert.AreEqual(DiagnosticCodes.ValidationOverTolerance, e.Code);
        StringAssert.Contains(e.Message, "input 0 after the call");

        static byte[] CasesWith(SafetensorsFile fixture, Tensor mutated) => SafetensorsWriter.Write(
            [fixture.ToTensor("opt.in.0").ToSafetensors("opt.in.0"), fixture.ToTensor("opt.out.0").ToSafetensors("opt.out.0"), mutated.ToSafetensors("opt.mutated.0")]);
    }

    [TestMethod]
    public void Asserts_AValueTheModelChecksFailsWithMB5007NamingTheCondition()
    {
        using var engine = CompiledModel.Load(Engine("asserts", "model.pt2").Bytes, "asserts");
        using var scope = NewDisposeScope();

        Assert.HasCount(1, engine.Run(randn(4, 8), tensor(new long[] { 16 })), "u0 = 16 is inside the checks");
        var e = Assert.ThrowsExactly<ModelBuildException>(() => engine.Run(randn(4, 8), tensor(new long[] { 17 })));
        var negative = Assert.ThrowsExactly<ModelBuildException>(() => engine.Run(randn(4, 8), tensor(new long[] { -1 })));

        Assert.AreEqual(DiagnosticCodes.RuntimeAssertionFailed, e.Code);
        StringAssert.Contains(e.Message, "u0 <= 16");
        Assert.AreEqual(DiagnosticCodes.RuntimeAssertionFailed, negative.Code);
        StringAssert.Contains(negative.Message, "u0 >= 0");
    }

    [TestMethod]
    public void DeadRand_DeadNodesGoBeforeTheLoweringCheck()
    {
        // The archive's dead aten.rand nodes renamed to an operator no backend runs: only dead-code elimination before the lowering check lets it compile.
        var renamed = Path.Combine(Path.GetTempPath(), $"dead_rand_{Guid.NewGuid():N}.pt2");
        File.Copy(TestPaths.HopFixture("dead_rand", "model.pt2"), renamed);
        try
        {
            RewriteProgram(renamed, json => json.Replace("torch.ops.aten.rand.default", "torch.ops.aten.rand_without_kernel.default", StringComparison.Ordinal));
            Assert.AreEqual(3, ModelReader.Read(renamed).Nodes.Count(n => n.Target == "torch.ops.aten.rand_without_kernel.default"));

            var engine = ModelCompiler.Compile(new CompileOptions(renamed) { CasesPath = TestPaths.HopFixture("dead_rand", "cases.safetensors") });

            var plan = EngineFile.Read(engine.Bytes, "dead_rand", CompiledModel.RuntimeVersion).Plan;
            Assert.IsFalse(plan.Blocks.SelectMany(b => b.Nodes ?? []).Any(n => n.Target.Contains("rand", StringComparison.Ordinal)));
            Assert.IsTrue(engine.Manifest.Validation.Any(v => v.ComparedWith == "cases"));
        }
        finally
        {
            File.Delete(renamed);
        }
    }

    [TestMethod]
    public void Unbounded_CompilesOnlyWithAMax_AndTheErrorShowsTheOptionAndTheItemMetadata()
    {
        var model = TestPaths.HopFixture("unbounded", "model.pt2");
        var cases = TestPaths.HopFixture("unbounded", "cases.safetensors");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(model)));
        var engine = ModelCompiler.Compile(new CompileOptions(model) { Shapes = [Shapes.ShapeOption.Parse("x:1=2..16..300", model)], CasesPath = cases });

        Assert.AreEqual(DiagnosticCodes.ShapeRangeUnbounded, e.Code);
        StringAssert.Contains(e.Message, "input 'x' dim 1 (symbol s27)");
        StringAssert.Contains(e.Message, "--shape x:1=2..<opt>..<max>");
        StringAssert.Contains(e.Message, "Shapes=\"x:1=2..<opt>..<max>\"");
        Assert.AreEqual(300, engine.Manifest.Symbols["s27"].Max);
        Assert.IsTrue(engine.Manifest.Validation.Any(v => v.Name == "max" && v.ComparedWith == "cases" && v.InputShapes[0][1] == 300));
    }

    /// <summary>The fixture compiled once per test run, with its cases.</summary>
    internal static CompiledEngine Engine(string model, string format) =>
        Engines.GetOrAdd((model, format), k => new Lazy<CompiledEngine>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.HopFixture(k.Item1, k.Item2))
        {
            Name = k.Item1,
            // The TorchSharp backend runs higher-order operators; these tests read its plan.
            Backend = "torch",
            CasesPath = TestPaths.HopFixture(k.Item1, "cases.safetensors"),
        }))).Value;

    /// <summary>Rewrites the program JSON of a PT2 archive in place.</summary>
    private static void RewriteProgram(string archive, Func<string, string> rewrite)
    {
        using var zip = ZipFile.Open(archive, ZipArchiveMode.Update);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith("/models/model.json", StringComparison.Ordinal));
        string json;
        using (var reader = new StreamReader(entry.Open()))
        {
            json = reader.ReadToEnd();
        }
        var name = entry.FullName;
        entry.Delete();
        using var writer = new StreamWriter(zip.CreateEntry(name, CompressionLevel.NoCompression).Open());
        writer.Write(rewrite(json));
    }
}
