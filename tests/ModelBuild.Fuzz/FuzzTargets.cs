using ModelBuild.Compiler.Validation;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Export.Pickle;
using ModelBuild.Fuzz.Mutations;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Fuzz;

/// <summary>
/// The readers under fuzz, each with its seeds, its mutations and the call that reads an input the way the build or
/// the runtime would: a model is read with all of its weights; a cases file is read as cases and every tensor made a
/// libtorch tensor; inputs are run on their engine; an engine is loaded; a manifest (hashes recomputed) is loaded and
/// run on its model's opt case; a plan (hashes recomputed) is loaded. Running a hostile plan is the runtime's part:
/// <c>plan-run</c>, not in <see cref="All"/>, does it (and finds kernels that abort the process, docs/reliability.md).
/// </summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("pt2", ".pt2", () => Seeds.Files("model.pt2", "model.core.pt2"), (bytes, rng) => ZipMutator.Mutate(bytes, rng), ReadModel),
        new("pt2-legacy", ".pt2", () => Seeds.Files("model.legacy.pt2"), (bytes, rng) => ZipMutator.Mutate(bytes, rng), ReadModel),
        new("torchscript", ".pt", () => Seeds.Files("model.ts.pt"), (bytes, rng) => ZipMutator.Mutate(bytes, rng), ReadModel),
        new("onnx", ".onnx", () => Seeds.Files("model.onnx"), (bytes, rng) => ByteMutator.Mutate(bytes, rng), ReadModel),
        new("pickle", ".pkl", Seeds.Pickles, (bytes, rng) => PickleMutator.Mutate(bytes, rng), ReadPickle),
        new("safetensors-cases", ".safetensors", () => Seeds.Files("cases.safetensors"), (bytes, rng) => SafetensorsMutator.Mutate(bytes, rng), ReadCases),
        new("safetensors-inputs", ".safetensors", Seeds.EngineInputs, (bytes, rng) => SafetensorsMutator.Mutate(bytes, rng), RunInputs, NamesFile: false),
        new("engine", ".mbengine", Seeds.Engines, (bytes, rng) => SafetensorsMutator.Mutate(bytes, rng), LoadEngine),
        new("manifest", ".mbengine", Seeds.Engines, (bytes, rng) => EngineMutator.Mutate(bytes, EngineFile.ManifestKey, rng), LoadAndRun, NamesFile: false),
        new("plan", ".mbengine", Seeds.Engines, (bytes, rng) => EngineMutator.Mutate(bytes, EngineFile.PlanKey, rng), LoadEngine),
    ];

    private static readonly FuzzTarget PlanRun =
        new("plan-run", ".mbengine", Seeds.Engines, (bytes, rng) => EngineMutator.Mutate(bytes, EngineFile.PlanKey, rng), PersistLoadAndRun, NamesFile: false);

    public static FuzzTarget Get(string name) =>
        All.Append(PlanRun).SingleOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no target '{name}'; the targets: {string.Join(", ", All.Append(PlanRun).Select(t => t.Name))}");

    private static long ReadModel(Seed seed, byte[] input, string path)
    {
        File.WriteAllBytes(path, input);
        var graph = ModelReader.Read(path);
        return graph.Weights.Sum(w => (long)w.Read().Length);
    }

    private static long ReadPickle(Seed seed, byte[] input, string path)
    {
        var value = PickleReader.Load(input, path, "archive/data.pkl", ModelReaderOptions.Default.MaxPickleValues, seed.TorchScriptPickle);
        return TorchSaveArchive.Tensors(value).Sum(t => Math.Min(t.Layout.StorageBytesNeeded, int.MaxValue));
    }

    private static long ReadCases(Seed seed, byte[] input, string path)
    {
        var file = SafetensorsFile.Parse(input, path);
        CasesFile.Read(file, path);
        using var scope = NewDisposeScope();
        foreach (var name in file.Tensors.Keys)
        {
            file.ToTensor(name);
        }
        return file.Payload.Length;
    }

    private static long RunInputs(Seed seed, byte[] input, string path)
    {
        var file = SafetensorsFile.Parse(input, path);
        var engine = LoadedEngines.Get(seed.Engine!);
        Run(engine, file);
        return file.Payload.Length + seed.Engine!.Bytes.Length;
    }

    private static long LoadEngine(Seed seed, byte[] input, string path)
    {
        CompiledModel.Load(input, path).Dispose();
        return input.Length;
    }

    private static long LoadAndRun(Seed seed, byte[] input, string path)
    {
        using var engine = CompiledModel.Load(input, path);
        Run(engine, SafetensorsFile.Parse(seed.Engine!.Inputs));
        return input.Length;
    }

    /// <summary>As <see cref="LoadAndRun"/>, with the input on disk first: a kernel that aborts the process leaves it there.</summary>
    private static long PersistLoadAndRun(Seed seed, byte[] input, string path)
    {
        File.WriteAllBytes(path, input);
        return LoadAndRun(seed, input, path);
    }

    /// <summary>The engine on the file's tensors named as its inputs, as <c>modelc run</c> does.</summary>
    private static void Run(CompiledModel engine, SafetensorsFile inputs)
    {
        using var scope = NewDisposeScope();
        engine.Run([.. engine.Manifest.Inputs.Select(i => inputs.ToTensor(i.Name))]);
    }

    /// <summary>Each seed's engine, loaded once: inputs are what changes in the inputs target.</summary>
    private static class LoadedEngines
    {
        private static readonly Dictionary<SeedEngine, CompiledModel> Loaded = [];

        public static CompiledModel Get(SeedEngine seed)
        {
            if (!Loaded.TryGetValue(seed, out var engine))
            {
                engine = CompiledModel.Load(seed.Bytes, seed.Model);
                Loaded[seed] = engine;
            }
            return engine;
        }
    }
}
