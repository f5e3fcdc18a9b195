using ModelBuild.Compiler;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Fuzz.Mutations;
using ModelBuild.Tests;

namespace ModelBuild.Fuzz;

/// <summary>A file inputs are made from; <see cref="Engine"/> when inputs are run on an engine.</summary>
internal sealed record Seed(string Name, byte[] Bytes)
{
    public SeedEngine? Engine { get; init; }

    /// <summary>A pickle from a TorchScript archive, which may name <c>__torch__</c> classes.</summary>
    public bool TorchScriptPickle { get; init; }
}

/// <summary>A compiled fixture: its engine's bytes and the inputs of its opt case, named as the engine names them.</summary>
internal sealed record SeedEngine(string Model, byte[] Bytes, byte[] Inputs);

/// <summary>
/// The seeds: the real PyTorch fixtures (public and extra), the pickles inside them, and engines compiled from a few of
/// them at start (small ones, so that many inputs run per second).
/// </summary>
internal static class Seeds
{
    private static readonly string[] EngineModels = ["seed_linear_dynamic", "multi_io", "ops_mix", "small_cnn"];

    private static readonly Lazy<IReadOnlyList<SeedEngine>> CompiledEngines = new(Compile);

    public static IReadOnlyList<string> Models =>
        [.. TestPaths.AllModelsWithExtra.Select(m => (string)m[0])];

    /// <summary>
    /// Seeds are files of at most 1 MiB: a mutation reaches the same checks in a small file as in a large one, and a
    /// few-megabyte CNN would take most of a run's time (the largest fixtures are 3 to 6 MiB).
    /// </summary>
    public const long MaxSeedBytes = 1 << 20;

    /// <summary>Every fixture's file of this name (model.pt2, model.ts.pt, cases.safetensors...) of at most <see cref="MaxSeedBytes"/>.</summary>
    public static IReadOnlyList<Seed> Files(params string[] names) =>
        [.. from model in Models from name in names where TestPaths.HasFixture(model, name)
            let path = TestPaths.Fixture(model, name) where new FileInfo(path).Length <= MaxSeedBytes
            select new Seed($"{model}/{name}", File.ReadAllBytes(path))];

    /// <summary>The pickles of the flat-layout archives' torch.save files and of the TorchScript archives.</summary>
    public static IReadOnlyList<Seed> Pickles()
    {
        var seeds = new List<Seed>();
        foreach (var archive in Files("model.legacy.pt2"))
        {
            foreach (var (name, data) in Entries(archive.Bytes).Where(e => e.Name.EndsWith(".pt", StringComparison.Ordinal)))
            {
                seeds.AddRange(Entries(data).Where(e => e.Name.EndsWith(".pkl", StringComparison.Ordinal))
                    .Select(e => new Seed($"{archive.Name}/{name}/{e.Name}", e.Data)));
            }
        }
        foreach (var archive in Files("model.ts.pt"))
        {
            seeds.AddRange(Entries(archive.Bytes).Where(e => e.Name.EndsWith(".pkl", StringComparison.Ordinal))
                .Select(e => new Seed($"{archive.Name}/{e.Name}", e.Data) { TorchScriptPickle = true }));
        }
        return seeds;
    }

    public static IReadOnlyList<Seed> Engines() => [.. CompiledEngines.Value.Select(e => new Seed($"{e.Model}.engine", e.Bytes) { Engine = e })];

    public static IReadOnlyList<Seed> EngineInputs() => [.. CompiledEngines.Value.Select(e => new Seed($"{e.Model}.inputs.safetensors", e.Inputs) { Engine = e })];

    private static List<SeedEngine> Compile()
    {
        var engines = new List<SeedEngine>();
        foreach (var model in EngineModels)
        {
            var engine = ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(model, "model.pt2")) { Name = model });
            engines.Add(new SeedEngine(model, engine.Bytes, Inputs(model, [.. engine.Manifest.Inputs.Select(i => i.Name)])));
        }
        // One engine of TorchScript, whose plan runs a module, with the ranges of the first model's PT2 engine.
        var model0 = EngineModels[0];
        var manifest = ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(model0, "model.pt2"))).Manifest;
        var path = TestPaths.Fixture(model0, "model.ts.pt");
        var shapes = manifest.Inputs.SelectMany(input => input.Dims.Select((dim, d) => ShapeOption.Parse(manifest.Symbols.TryGetValue(dim, out var s)
            ? $"{input.Name}:{d}={s.Min}..{s.Opt}..{s.Max}" : $"{input.Name}:{d}={dim}", path)));
        var torchScript = ModelCompiler.Compile(new CompileOptions(path) { Shapes = [.. shapes] });
        engines.Add(new SeedEngine($"{model0}.ts", torchScript.Bytes, Inputs(model0, [.. torchScript.Manifest.Inputs.Select(i => i.Name)])));
        return engines;
    }

    /// <summary>The opt case's inputs under the engine's input names.</summary>
    private static byte[] Inputs(string model, IReadOnlyList<string> names)
    {
        var cases = SafetensorsFile.Read(TestPaths.Fixture(model, "cases.safetensors"));
        return SafetensorsWriter.Write(names.Select((name, i) =>
        {
            var entry = cases.Entry($"opt.in.{i}");
            return new SafetensorsTensor(name, entry.DType, entry.Shape, cases.Data(entry.Name));
        }));
    }

    private static List<(string Name, byte[] Data)> Entries(byte[] zip) => ZipMutator.Read(zip);
}
