using System.Text.Json;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>What a fixture's fixture.json says PyTorch exported: inputs, range constraints, case shapes.</summary>
internal sealed record FixtureExpectations(
    IReadOnlyList<(string Name, TensorDType DType)> Inputs,
    IReadOnlyDictionary<string, (long Min, long Max)> RangeConstraints,
    IReadOnlyList<IReadOnlyList<long>> OptInputShapes)
{
    public static FixtureExpectations Load(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(model, "fixture.json")));
        var root = doc.RootElement;
        var inputs = root.GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("name").GetString()!, DType(i.GetProperty("dtype").GetString()!))).ToList();
        var ranges = root.GetProperty("range_constraints").EnumerateObject()
            .ToDictionary(p => p.Name, p => (p.Value.GetProperty("min").GetInt64(), p.Value.GetProperty("max").GetInt64()));
        var opt = root.GetProperty("cases").EnumerateObject().First(c => c.Name is "opt" or "static").Value.GetProperty("inputs").EnumerateArray()
            .Select(s => (IReadOnlyList<long>)s.EnumerateArray().Select(d => d.GetInt64()).ToList()).ToList();
        return new FixtureExpectations(inputs, ranges, opt);
    }

    private static TensorDType DType(string torchName) => torchName switch
    {
        "float32" => TensorDType.F32,
        "float64" => TensorDType.F64,
        "float16" => TensorDType.F16,
        "bfloat16" => TensorDType.BF16,
        "int64" => TensorDType.I64,
        "int32" => TensorDType.I32,
        "bool" => TensorDType.BOOL,
        _ => throw new ArgumentException(torchName),
    };
}
