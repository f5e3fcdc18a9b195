using System.CommandLine;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc run &lt;engine&gt; --input &lt;file.safetensors&gt; -o &lt;out.safetensors&gt;</c>: runs the engine once. Inputs are
/// the tensors named as the engine's inputs, else <c>in.&lt;i&gt;</c> (or the one case's <c>&lt;case&gt;.in.&lt;i&gt;</c> of a
/// cases file); outputs are written under the engine's output names.
/// </summary>
internal static partial class RunCommand
{
    public static Command Create()
    {
        var engineArg = new Argument<FileInfo>("engine") { Description = "An engine written by modelc compile." };
        var input = new Option<FileInfo>("--input") { Description = "A safetensors file with the inputs.", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The safetensors file to write the outputs to.", Required = true };
        var command = new Command("run", "Run an engine on the inputs of a safetensors file.") { engineArg, input, output };
        command.SetAction(parse => CommandErrors.RunOnLibTorch(parse.GetValue(engineArg)!.FullName, () =>
        {
            var inputPath = parse.GetValue(input)!.FullName;
            using var engine = EngineLoading.Load(parse.GetValue(engineArg)!.FullName);
            var file = SafetensorsFile.Read(inputPath);
            using var scope = NewDisposeScope();
            var names = InputNames(engine, file, inputPath);
            // The inputs' checks (MB5xxx) and the nodes' failures are about the inputs file.
            var outputs = CommandErrors.About(inputPath, () => engine.Run([.. names.Select(file.ToTensor)]));
            var target = parse.GetValue(output)!.FullName;
            OutputFile.Write(target, SafetensorsWriter.Write(outputs.Select((t, j) => t.ToSafetensors(engine.Manifest.Outputs[j].Name))));
            Console.Out.WriteLine($"wrote {outputs.Length} output{(outputs.Length == 1 ? "" : "s")} to {target}");
            return 0;
        }));
        return command;
    }

    private static string[] InputNames(CompiledModel engine, SafetensorsFile file, string path)
    {
        var specs = engine.Manifest.Inputs;
        if (specs.All(s => file.Tensors.ContainsKey(s.Name)))
        {
            return [.. specs.Select(s => s.Name)];
        }
        var numbered = file.Tensors.Keys.Select(k => Numbered().Match(k)).Where(m => m.Success).ToList();
        var prefixes = numbered.Select(m => m.Groups["prefix"].Value).Distinct().ToList();
        if (prefixes.Count == 1 && Enumerable.Range(0, specs.Count).All(i => file.Tensors.ContainsKey($"{prefixes[0]}in.{i}")))
        {
            return [.. Enumerable.Range(0, specs.Count).Select(i => $"{prefixes[0]}in.{i}")];
        }
        throw new ModelBuildException(DiagnosticCodes.InputCountMismatch,
            $"the file must hold the engine's inputs named {string.Join(", ", specs.Select(s => $"'{s.Name}'"))} (or in.0..in.{specs.Count - 1}); it holds {string.Join(", ", file.Tensors.Keys)}.", path);
    }

    [GeneratedRegex(@"^(?<prefix>(?:.+\.)?)in\.\d+$")]
    private static partial Regex Numbered();
}
