using ClassifierSample.Models;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;

namespace ClassifierSample;

/// <summary>Runs the engine that dotnet build compiled and embedded on PyTorch's reference cases and prints its error.</summary>
internal static class Program
{
    private const double Tolerance = 1e-4;

    private static int Main()
    {
        var cases = SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "models", "cases.safetensors"));
        using var classifier = Classifier.Load();
        var manifest = classifier.Model.Manifest;
        Console.WriteLine($"{manifest.Name}: compiled for {manifest.Target.Device} {manifest.Target.Precision}, running on {string.Join(" and ", classifier.Model.Backends)}, " +
            $"symbols {string.Join(", ", manifest.Symbols.Select(s => $"{s.Key} in {s.Value.Min}..{s.Value.Max}"))}");

        var worst = 0.0;
        foreach (var name in cases.Tensors.Keys.Where(k => k.EndsWith(".in.0", StringComparison.Ordinal)).Select(k => k[..^5]))
        {
            var input = Read(cases, $"{name}.in.0");
            using var output = classifier.Run(input);
            var expected = Read(cases, $"{name}.out.0").AsSpan<float>();
            var actual = output.AsSpan<float>();
            var error = 0.0;
            for (var i = 0; i < actual.Length; i++)
            {
                error = Math.Max(error, Math.Abs(actual[i] - expected[i]));
            }
            Console.WriteLine($"case {name,-4} input [{string.Join(", ", input.Shape)}] -> [{string.Join(", ", output.Shape)}]  max abs error {error:E2}");
            worst = Math.Max(worst, error);
        }
        // The engine was compiled and validated for batch 1..8 and H, W multiples of 8 in 16..128: it refuses the rest.
        try
        {
            classifier.Run(HostTensor.Zeros(TensorDType.F32, 9, 3, 32, 32)).Dispose();
            Console.WriteLine("batch 9 was accepted (FAILED: it is outside the compiled range)");
            return 1;
        }
        catch (ModelBuildException e)
        {
            Console.WriteLine($"batch 9 refused: {e.Message}");
        }

        var ok = worst <= Tolerance;
        Console.WriteLine($"max abs error {worst:E2} against PyTorch 2.11 ({(ok ? "ok" : "FAILED")})");
        return ok ? 0 : 1;
    }

    /// <summary>A tensor of the cases file, copied into a <see cref="HostTensor"/>.</summary>
    private static HostTensor Read(SafetensorsFile file, string name)
    {
        var entry = file.Tensors[name];
        return HostTensor.FromBytes(entry.DType, entry.Shape, file.Data(name).ToArray());
    }
}
