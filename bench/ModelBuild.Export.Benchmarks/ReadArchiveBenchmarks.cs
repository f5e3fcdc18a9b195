using System.Reflection;
using BenchmarkDotNet.Attributes;
using ModelBuild.Engine.Graph;
using ModelBuild.Export;

/// <summary>Warm ModelReader.Read end to end (open, parse the program, weights' metadata, sample inputs, SHA-256).</summary>
[MemoryDiagnoser]
public class ReadArchiveBenchmarks
{
    private static readonly string Fixtures =
        typeof(ReadArchiveBenchmarks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelBuild.FixturesDir").Value!;

    [Params("model.pt2", "model.legacy.pt2")]
    public string File { get; set; } = "";

    [Benchmark]
    public ModelGraph ReadTransformerBlock() => ModelReader.Read(Path.Combine(Fixtures, "transformer_block", File));
}
