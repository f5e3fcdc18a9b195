using System.CommandLine;
using System.Globalization;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using static TorchSharp.torch;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc verify &lt;engine&gt; --cases &lt;cases.safetensors&gt;</c>: runs every case <c>&lt;case&gt;.in.&lt;i&gt;</c> through the
/// restored engine and compares with <c>&lt;case&gt;.out.&lt;j&gt;</c> at the manifest's tolerance. The last line is exactly
/// "N passed, M failed"; every failure is also an error line on stderr naming the cases file.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var engineArg = new Argument<FileInfo>("engine") { Description = "An engine written by modelc compile." };
        var casesOption = new Option<FileInfo>("--cases") { Description = "Tensors <case>.in.<i> and <case>.out.<j>.", Required = true };
        var command = new Command("verify", "Run every case of a cases file through an engine and compare.") { engineArg, casesOption };
        command.SetAction(parse => CommandErrors.Run(parse.GetValue(engineArg)!.FullName, () =>
        {
            var enginePath = parse.GetValue(engineArg)!.FullName;
            var casesPath = parse.GetValue(casesOption)!.FullName;
            using var engine = EngineLoading.Load(enginePath);
            var file = SafetensorsFile.Read(casesPath);
            var cases = CasesFile.Read(file, casesPath);
            var tolerance = engine.Manifest.Validation.Count > 0 ? engine.Manifest.Validation.Max(v => v.Tolerance) : 1e-4;
            int passed = 0, failed = 0;
            foreach (var c in cases)
            {
                using var scope = NewDisposeScope();
                var failure = Check(engine, file, c, tolerance, casesPath, out var detail);
                if (failure is null)
                {
                    passed++;
                    Console.Out.WriteLine($"PASS {c.Name}: {detail}");
                }
                else
                {
                    failed++;
                    Console.Out.WriteLine($"FAIL {c.Name}: {failure.Detail}");
                    Console.Error.WriteLine($"modelc: error {failure.Message}");
                }
            }
            Console.Out.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        }));
        return command;
    }

    /// <returns>null when the case passes.</returns>
    private static ModelBuildException? Check(CompiledModel engine, SafetensorsFile file, Case c, double tolerance, string casesPath, out string detail)
    {
        detail = "";
        Tensor[] outputs;
        try
        {
            outputs = engine.Run([.. c.Inputs.Select(file.ToTensor)]);
        }
        catch (ModelBuildException e)
        {
            return new ModelBuildException(e.Code, $"case '{c.Name}': {e.Detail}", casesPath);
        }
        if (outputs.Length != c.Outputs.Count)
        {
            return new ModelBuildException(DiagnosticCodes.CasesMalformed, $"case '{c.Name}': the engine returns {outputs.Length} outputs but the case has {c.Outputs.Count}.", casesPath);
        }
        double maxAbs = 0, maxRel = 0;
        for (var j = 0; j < outputs.Length; j++)
        {
            var expected = file.ToTensor(c.Outputs[j]);
            if (!outputs[j].shape.SequenceEqual(expected.shape))
            {
                return new ModelBuildException(DiagnosticCodes.ValidationShapeMismatch,
                    $"case '{c.Name}': output {j} has shape [{string.Join(", ", outputs[j].shape)}], expected [{string.Join(", ", expected.shape)}].", casesPath);
            }
            var cmp = OutputComparison.Of(outputs[j], expected, tolerance);
            maxAbs = Math.Max(maxAbs, cmp.MaxAbs);
            maxRel = Math.Max(maxRel, cmp.MaxRel);
            if (!cmp.Passed)
            {
                return new ModelBuildException(DiagnosticCodes.ValidationOverTolerance, string.Create(CultureInfo.InvariantCulture,
                    $"case '{c.Name}': output {j} differs beyond the engine's tolerance {tolerance:G4}: max abs error {cmp.MaxAbs:G4}, max rel error {cmp.MaxRel:G4}."), casesPath);
            }
        }
        detail = string.Create(CultureInfo.InvariantCulture, $"max abs error {maxAbs:G4}, max rel error {maxRel:G4}");
        return null;
    }
}
