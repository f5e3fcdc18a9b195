using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Tests;

namespace ModelBuild.Lowering.Onnx.Tests;

/// <summary>What lowering one OpInfo program gave: whether every node lowered, and if so whether ONNX Runtime agreed with PyTorch.</summary>
internal sealed record ProgramResult(string File, IReadOnlyList<string> Targets, string? NotLowered, string? Mismatch);

/// <summary>
/// PyTorch's OpInfo samples (tests/fixtures/ops): one small program per op and sample, in the core ATen IR
/// (<c>&lt;id&gt;.pt2</c>) and the training IR (<c>&lt;id&gt;.train.pt2</c>), with PyTorch's outputs in cases.safetensors.
/// Each program that lowers entirely runs in ONNX Runtime on the case's inputs; computed once per test run.
/// </summary>
internal static class OpInfoPrograms
{
    private static readonly Lazy<IReadOnlyList<ProgramResult>> LazyResults = new(Evaluate);

    public static IReadOnlyList<ProgramResult> Results => LazyResults.Value;

    public static string Dir => TestPaths.InRepository(typeof(OpInfoPrograms).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ModelBuild.OpsFixturesDir").Value!);

    private static List<ProgramResult> Evaluate()
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "index.json")));
        var cases = SafetensorsFile.Read(Path.Combine(Dir, "cases.safetensors"));
        var folder = Path.Combine(Path.GetTempPath(), $"modelbuild-opinfo-{Guid.NewGuid():N}");
        ZipFile.ExtractToDirectory(Path.Combine(Dir, "programs.zip"), folder);
        try
        {
            var results = new List<ProgramResult>();
            foreach (var program in index.RootElement.GetProperty("programs").EnumerateArray().Where(p => p.GetProperty("compare").GetString() == "values"))
            {
                var id = program.GetProperty("id").GetString()!;
                var atol = Math.Max(1e-4, program.GetProperty("atol").GetDouble());
                var rtol = Math.Max(1e-4, program.GetProperty("rtol").GetDouble());
                foreach (var file in new[] { $"{id}.pt2", $"{id}.train.pt2" }.Select(f => Path.Combine(folder, f)).Where(File.Exists))
                {
                    results.Add(Evaluate(file, id, cases, atol, rtol));
                }
            }
            return results;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static ProgramResult Evaluate(string file, string id, SafetensorsFile cases, double atol, double rtol)
    {
        var name = Path.GetFileName(file);
        ModelGraph graph;
        try
        {
            graph = ModelReader.Read(file);
        }
        catch (Diagnostics.ModelBuildException e)
        {
            // Programs the front end does not read yet (input mutations, some higher-order ops) are not the lowering's.
            return new ProgramResult(name, [], $"not read: {e.Code}", null);
        }
        var targets = graph.Nodes.Select(n => n.Target).Distinct().ToList();
        var notLowered = graph.Nodes.Select(n => OnnxLowering.Unsupported(n, graph) is { } why ? $"{n.Target}: {why}" : null).FirstOrDefault(w => w is not null);
        var inputs = Enumerable.Range(0, graph.Inputs.Count).Select(i => $"{id}.in.{i}").ToList();
        if (notLowered is not null || !inputs.All(cases.Tensors.ContainsKey))
        {
            return new ProgramResult(name, targets, notLowered ?? "the cases do not give every input", null);
        }
        var model = OnnxLowering.Lower(graph.Nodes, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)], graph);
        TensorData[] outputs;
        try
        {
            outputs = OnnxSession.Run(model, [.. inputs.Select(i => TensorData.Of(cases, i))]);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            return new ProgramResult(name, targets, null, $"ONNX Runtime: {e.Message.Split('\n')[0]}");
        }
        for (var j = 0; j < outputs.Length; j++)
        {
            if (TensorComparison.Difference(outputs[j], TensorData.Of(cases, $"{id}.out.{j}"), atol, rtol) is { } difference)
            {
                return new ProgramResult(name, targets, null, $"output {j}: {difference}");
            }
        }
        return new ProgramResult(name, targets, null, null);
    }

    /// <summary>Whether a node of <paramref name="graph"/> lowers; for the fixtures' graphs.</summary>
    public static IEnumerable<string> LoweredTargets(ModelGraph graph) =>
        graph.Nodes.Where(n => OnnxLowering.Unsupported(n, graph) is null).Select(n => n.Target);
}
