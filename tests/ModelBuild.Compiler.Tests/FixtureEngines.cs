using System.Collections.Concurrent;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>Each fixture file (public and extra) compiled once per test run for TorchSharp (with its cases file), shared by the test classes.</summary>
internal static class FixtureEngines
{
    public static readonly string[] GraphFormats = ["model.pt2", "model.legacy.pt2", "model.core.pt2"];

    /// <summary>
    /// The extra fixtures keep the training IR, the core ATen IR where run_decompositions() succeeded, and the flat layout
    /// where it holds something the public ones lack (bert_tiny: a constant pickled through _rebuild_from_type_v2).
    /// </summary>
    public static readonly string[] ExtraGraphFormats = ["model.pt2", "model.legacy.pt2", "model.core.pt2"];

    private static readonly ConcurrentDictionary<(string, string), Lazy<CompiledEngine>> Engines = new();

    public static CompiledEngine Get(string model, string format) =>
        Engines.GetOrAdd((model, format), k => new Lazy<CompiledEngine>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(k.Item1, k.Item2))
        {
            Name = model,
            CasesPath = TestPaths.Fixture(k.Item1, "cases.safetensors"),
            // These engines prove the TorchSharp path (passes, kernels, memory plan); OnnxRuntimeBackendTests the other.
            Backend = "torch",
        }))).Value;

    /// <summary>Every graph file of the public and the extra fixtures.</summary>
    public static IEnumerable<object[]> ModelsAndFormats =>
        TestPaths.AllModels.SelectMany(m => GraphFormats.Select(f => new object[] { m[0], f }))
            .Concat(TestPaths.ExtraModels.SelectMany(m => ExtraGraphFormats
                .Where(f => TestPaths.HasFixture((string)m[0], f)).Select(f => new object[] { m[0], f })));
}
