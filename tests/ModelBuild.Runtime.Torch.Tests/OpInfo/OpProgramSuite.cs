using System.IO.Compression;
using System.Text.Json;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Runtime.Torch.Tests.OpInfo;

/// <summary>One OpInfo sample exported as a one-op program (an entry of tests/fixtures/ops/index.json).</summary>
/// <param name="CoreTargets">The call_function targets of the core-IR program (<c>aten.add.Tensor</c>).</param>
/// <param name="TrainTargets">The targets of the training-IR program; equal to the core ones when it was not kept apart.</param>
/// <param name="CompareShapeOnly">Two eager runs differ (random ops, uninitialised memory): only shapes and dtypes are compared.</param>
internal sealed record OpProgram(
    string Id, string OpInfo, string Variant, string Sample, IReadOnlyList<string> CoreTargets, IReadOnlyList<string> TrainTargets,
    int Inputs, int Outputs, double Atol, double Rtol, bool CompareShapeOnly, IReadOnlyList<string> Files);

/// <summary>
/// tests/fixtures/ops as eng/fixtures/make_op_fixtures.py wrote it: the programs (their archives held in memory), the
/// reference cases, every core ATen op of PyTorch and why no program reaches some of them.
/// </summary>
internal sealed class OpProgramSuite
{
    private readonly Dictionary<string, byte[]> _archives;

    private OpProgramSuite(string torchVersion, IReadOnlyList<OpProgram> programs, IReadOnlyList<string> coreOps,
        IReadOnlyDictionary<string, string> uncovered, Dictionary<string, byte[]> archives, SafetensorsFile cases)
    {
        TorchVersion = torchVersion;
        Programs = programs;
        CoreOps = coreOps;
        Uncovered = uncovered;
        _archives = archives;
        Cases = cases;
    }

    public static string Folder => TestPaths.InRepository(Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "ops"));

    /// <summary>The suite, read once per test run.</summary>
    public static OpProgramSuite Instance => Loaded.Value;

    private static readonly Lazy<OpProgramSuite> Loaded = new(Load);

    public string TorchVersion { get; }

    public IReadOnlyList<OpProgram> Programs { get; }

    /// <summary>Every aten overload tagged <c>core</c> (core_ops.json).</summary>
    public IReadOnlyList<string> CoreOps { get; }

    /// <summary>Core ops no program holds, with the generator's reason.</summary>
    public IReadOnlyDictionary<string, string> Uncovered { get; }

    /// <summary><c>&lt;id&gt;.in.&lt;i&gt;</c> and <c>&lt;id&gt;.out.&lt;j&gt;</c>: the sample's inputs and PyTorch's eager outputs.</summary>
    public SafetensorsFile Cases { get; }

    /// <summary>The bytes of <c>&lt;id&gt;.pt2</c> (core IR) or <c>&lt;id&gt;.train.pt2</c>.</summary>
    public ReadOnlyMemory<byte> Archive(string file) => _archives[file];

    private static OpProgramSuite Load()
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "index.json")));
        var root = index.RootElement;
        var programs = root.GetProperty("programs").EnumerateArray().Select(p => new OpProgram(
            p.GetProperty("id").GetString()!,
            p.GetProperty("opinfo").GetString()!,
            p.GetProperty("variant").GetString()!,
            p.GetProperty("sample").GetString()!,
            Strings(p.GetProperty("core_targets")),
            Strings(p.GetProperty("train_targets")),
            p.GetProperty("inputs").GetArrayLength(),
            p.GetProperty("outputs").GetArrayLength(),
            p.GetProperty("atol").GetDouble(),
            p.GetProperty("rtol").GetDouble(),
            p.GetProperty("compare").GetString() == "shape",
            Strings(p.GetProperty("files")))).ToList();
        var uncovered = root.GetProperty("uncovered").EnumerateObject().ToDictionary(o => o.Name, o => o.Value.GetString()!, StringComparer.Ordinal);
        using var coreOps = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "core_ops.json")));

        var archives = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var zip = ZipFile.OpenRead(Path.Combine(Folder, "programs.zip")))
        {
            foreach (var entry in zip.Entries)
            {
                using var stream = entry.Open();
                var bytes = new byte[entry.Length];
                stream.ReadExactly(bytes);
                archives[entry.FullName] = bytes;
            }
        }

        return new OpProgramSuite(root.GetProperty("torch_version").GetString()!, programs, Strings(coreOps.RootElement), uncovered, archives,
            SafetensorsFile.Read(Path.Combine(Folder, "cases.safetensors")));
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
