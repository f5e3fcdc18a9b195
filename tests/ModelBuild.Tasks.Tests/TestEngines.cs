using System.Text.Json;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Tasks.Tests;

/// <summary>Engine files with a given manifest, written the way the engine writer stores it (camelCase JSON in __metadata__).</summary>
internal static class TestEngines
{
    public static EngineManifest SmallCnn() => Manifest(
        "small_cnn",
        [new ManifestTensor("x", "F32", ["s77", "3", "8*s69", "8*s81"])],
        [new ManifestTensor("linear", "F32", ["s77", "10"])],
        new Dictionary<string, ManifestSymbol> { ["s77"] = new(1, 2, 32), ["s69"] = new(2, 4, 16), ["s81"] = new(2, 4, 16) },
        [new ManifestRelation("8*s69", 16, 128), new ManifestRelation("8*s81", 16, 128)]);

    public static EngineManifest MultiIo() => Manifest(
        "multi_io",
        [new ManifestTensor("a", "F32", ["s27", "4"]), new ManifestTensor("b", "F32", ["2*s27", "4"])],
        [new ManifestTensor("sum", "F32", ["s27", "4"]), new ManifestTensor("class", "F32", ["2*s27"])],
        new Dictionary<string, ManifestSymbol> { ["s27"] = new(1, 4, 16) },
        [new ManifestRelation("2*s27", 2, 32)]);

    public static string Write(EngineManifest manifest, string path)
    {
        var json = JsonSerializer.Serialize(manifest, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        File.WriteAllBytes(path, SafetensorsWriter.Write(
            [new SafetensorsTensor("w", TensorDType.F32, [1], new byte[4])],
            new Dictionary<string, string> { ["format"] = "modelbuild-engine", ["manifest"] = json, ["plan"] = "{}" }));
        return path;
    }

    private static EngineManifest Manifest(string name, ManifestTensor[] inputs, ManifestTensor[] outputs,
        Dictionary<string, ManifestSymbol> symbols, ManifestRelation[] relations) => new()
    {
        Name = name,
        Source = new ManifestSource("pt2", $"{name}.pt2", new string('0', 64), "2.11.0"),
        Toolchain = new ManifestToolchain("0.1.0", "0.107.0", "2.10.0"),
        Target = new ManifestTarget("cpu", null, "fp32"),
        Inputs = inputs,
        Outputs = outputs,
        Symbols = symbols,
        Relations = relations,
        Validation = [],
        RuntimeVersions = "[0.1.0, 0.2.0)",
        PayloadSha256 = new string('0', 64),
    };
}
