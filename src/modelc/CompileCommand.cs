using System.CommandLine;
using System.Globalization;
using ModelBuild.Compiler;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc compile &lt;model&gt; -o &lt;engine&gt; [--device] [--precision] [--shape]... [--name] [--tolerance] [--cases] [--backend] [--min-block-size] [--torch-executed-op]...</c>:
/// compiles and validates the model and writes the engine (<see cref="OutputFile"/>: whole or not at all).
/// </summary>
internal static class CompileCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "A model: PT2 archive (model.pt2, legacy or core IR) or TorchScript (with --shape for every dim)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The engine file to write.", Required = true };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var precision = new Option<string>("--precision") { Description = "fp32, fp16 or bf16 (inputs and outputs stay fp32).", DefaultValueFactory = _ => "fp32" };
        var shapes = new Option<string[]>("--shape")
        {
            Description = "Narrow a dim's range: <input>:<dim>=<min>..<opt>..<max> or <min>..<max>. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var name = new Option<string?>("--name") { Description = "The engine's name (default: the model file's name)." };
        var tolerance = new Option<double?>("--tolerance") { Description = "The bound on the validation's scaled error, |a - b| / (|b| + rms(b)) per output (default 1e-4 at fp32, 1e-2 fp16, 5e-2 bf16)." };
        var cases = new Option<FileInfo?>("--cases") { Description = "A cases.safetensors file whose cases the engine must also reproduce." };
        var backend = new Option<string>("--backend")
        {
            Description = "auto (build the candidates, keep the fastest at opt), torch (TorchSharp), onnxruntime (ONNX Runtime where it lowers, TorchSharp for the rest).",
            DefaultValueFactory = _ => "auto",
        };
        var minBlockSize = new Option<int>("--min-block-size")
        {
            Description = "The fewest compute nodes a block of a preferred backend may have; smaller ones run on TorchSharp.",
            DefaultValueFactory = _ => new CompileOptions("").MinBlockSize,
        };
        var torchOps = new Option<string[]>("--torch-executed-op")
        {
            Description = "An operator that runs on TorchSharp whatever the backend (aten.softmax, or torch.ops.aten.softmax.int). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("compile", "Compile a model into a validated engine.") { model, output, device, precision, shapes, name, tolerance, cases, backend, minBlockSize, torchOps };
        command.SetAction(parse => CommandErrors.RunOnLibTorch(parse.GetValue(model)!.FullName, () =>
        {
            var path = parse.GetValue(model)!.FullName;
            var options = new CompileOptions(path)
            {
                Device = parse.GetValue(device)!,
                Precision = parse.GetValue(precision)!,
                Shapes = [.. (parse.GetValue(shapes) ?? []).Select(s => ShapeOption.Parse(s, path))],
                Name = parse.GetValue(name),
                Tolerance = parse.GetValue(tolerance),
                CasesPath = parse.GetValue(cases)?.FullName,
                Backend = parse.GetValue(backend)!,
                MinBlockSize = parse.GetValue(minBlockSize),
                TorchExecutedOps = parse.GetValue(torchOps) ?? [],
            };
            var engine = ModelCompiler.Compile(options);
            var target = parse.GetValue(output)!.FullName;
            OutputFile.Write(target, engine.Bytes);

            var m = engine.Manifest;
            Console.Out.WriteLine($"compiled {m.Name} ({m.Source.Format}) for {m.Target.Device} {m.Target.Precision}: {string.Join(", ", m.Symbols.Select(s => $"{s.Key} {s.Value.Min}..{s.Value.Opt}..{s.Value.Max}"))}");
            if (m.BackendSelection is { } selection)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  backend {selection.Chosen} ({string.Join(", ", m.Blocks.Select(b => $"{b.Backend} {b.OpCount}"))} nodes){(selection.Candidates.Count > 1 ? $"; candidates at opt: {string.Join(", ", selection.Candidates.Select(c => $"{c.Backend} {c.OptMicroseconds:F0} us"))}" : "")}"));
            }
            foreach (var v in m.Validation)
            {
                Console.Out.WriteLine($"  validated {v.Name} against {v.ComparedWith}: {EngineValidator.Summarize(v, m.Target.Precision)}");
            }
            Console.Out.WriteLine($"wrote {target} ({engine.Bytes.Length} bytes)");
            return 0;
        }));
        return command;
    }
}
