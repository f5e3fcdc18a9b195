using System.CommandLine;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc verify &lt;engine&gt; --cases &lt;cases.safetensors&gt;</c>: runs every case <c>&lt;case&gt;.in.&lt;i&gt;</c> through the
/// restored engine and compares with <c>&lt;case&gt;.out.&lt;j&gt;</c> (and <c>&lt;case&gt;.mutated.&lt;i&gt;</c>, the inputs after
/// the call) with the criteria the engine was validated with. The last line is exactly "N passed, M failed"; every
/// failure is also an error line on stderr naming the cases file.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var engineArg = new Argument<FileInfo>("engine") { Description = "An engine written by modelc compile." };
        var casesOption = new Option<FileInfo>("--cases") { Description = "Tensors <case>.in.<i> and <case>.out.<j> (and <case>.mutated.<i>).", Required = true };
        var command = new Command("verify", "Run every case of a cases file through an engine and compare.") { engineArg, casesOption };
        command.SetAction(parse => CommandErrors.RunOnLibTorch(parse.GetValue(engineArg)!.FullName, () =>
        {
            var enginePath = parse.GetValue(engineArg)!.FullName;
            var casesPath = parse.GetValue(casesOption)!.FullName;
            using var engine = EngineLoading.Load(enginePath);
            var file = SafetensorsFile.Read(casesPath);
            var cases = CasesFile.Read(file, casesPath);
            var criteria = Criteria(engine.Manifest);
            int passed = 0, failed = 0;
            foreach (var c in cases)
            {
                using var scope = NewDisposeScope();
                var failure = Check(engine, file, c, criteria, casesPath, out var detail);
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
            foreach (var note in engine.Notes)
            {
                Console.Out.WriteLine($"note {note}");
            }
            Console.Out.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        }));
        return command;
    }

    /// <summary>The criteria the engine was validated with (the loosest of its cases'), else the fp32 defaults.</summary>
    private static ValidationCriteria Criteria(EngineManifest manifest) => manifest.Validation.Count == 0
        ? ValidationCriteria.For("fp32", null)
        : new ValidationCriteria(manifest.Validation.Max(v => v.Tolerance), manifest.Validation.Min(v => v.MinCosineSimilarity));

    /// <returns>null when the case passes.</returns>
    private static ModelBuildException? Check(CompiledModel engine, SafetensorsFile file, Case c, ValidationCriteria criteria, string casesPath, out string detail)
    {
        detail = "";
        CaseResult result;
        try
        {
            result = EngineValidator.Check(engine, c, file, criteria, casesPath);
        }
        catch (ModelBuildException e)
        {
            // The engine's own error (a case outside the ranges) says more than "the case failed to run".
            var cause = e.Code == DiagnosticCodes.ValidationRunFailed && e.InnerException is ModelBuildException inner ? inner : e;
            return new ModelBuildException(cause.Code, $"case '{c.Name}': {cause.Detail}", casesPath);
        }
        if (!result.Passed)
        {
            return new ModelBuildException(DiagnosticCodes.ValidationOverTolerance, $"case '{c.Name}': not within the engine's criteria ({criteria}): {result.Summary}.", casesPath);
        }
        detail = result.Summary;
        return null;
    }
}
