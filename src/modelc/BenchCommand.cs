using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc bench &lt;engine&gt; --cases &lt;cases.safetensors&gt; [--case opt[,max...]] [--cuda-graphs on|off|both] [--warmup N]
/// [--iterations N] [--json file]</c>: for every case and graph mode, times loading the engine (file read, checks,
/// weights onto the device, CUDA graph capture of the opt shape; the first load in the process also starts libtorch and
/// the device) and its first run, then the median run with the case's inputs already on the engine's device, waiting
/// for the device after every run (as PyTorch anchors do with torch.cuda.synchronize), so the numbers stand next to
/// PyTorch's on the same machine. One process measures every combination, so libtorch and the device start once.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var engineArg = new Argument<FileInfo>("engine") { Description = "An engine written by modelc compile." };
        var casesOption = new Option<FileInfo>("--cases") { Description = "Tensors <case>.in.<i> (and <case>.out.<j>).", Required = true };
        var caseOption = new Option<string>("--case") { Description = "Which cases' inputs to time, comma-separated (default opt, else the first).", DefaultValueFactory = _ => "opt" };
        var graphsOption = new Option<string>("--cuda-graphs")
        {
            Description = "CUDA engines: on (replay CUDA graphs), off (kernel by kernel) or both.",
            DefaultValueFactory = _ => "on",
        };
        var warmupOption = new Option<int>("--warmup") { Description = "Untimed runs before timing.", DefaultValueFactory = _ => 10 };
        var iterationsOption = new Option<int>("--iterations") { Description = "Timed runs (at most; timing also stops after 3 s).", DefaultValueFactory = _ => 200 };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Also write the numbers as JSON to this file." };
        var command = new Command("bench", "Time an engine's load and its runs on some cases.")
        {
            engineArg, casesOption, caseOption, graphsOption, warmupOption, iterationsOption, jsonOption,
        };
        command.SetAction(parse => CommandErrors.RunOnLibTorch(parse.GetValue(engineArg)!.FullName, () =>
        {
            var enginePath = parse.GetValue(engineArg)!.FullName;
            var casesPath = parse.GetValue(casesOption)!.FullName;
            var file = SafetensorsFile.Read(casesPath);
            var cases = CasesFile.Read(file, casesPath);
            var chosen = parse.GetValue(caseOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(name => cases.FirstOrDefault(c => c.Name == name)).OfType<Case>().ToList();
            if (chosen.Count == 0)
            {
                chosen = cases.Count > 0 ? [cases[0]] : throw new ModelBuildException(DiagnosticCodes.CasesMalformed, "the cases file holds no case.", casesPath);
            }
            bool[] graphModes = parse.GetValue(graphsOption) switch
            {
                "on" => [true],
                "off" => [false],
                "both" => [true, false],
                var other => throw new ModelBuildException(DiagnosticCodes.OptionInvalid, $"--cuda-graphs '{other}' is not one of on, off, both.", enginePath),
            };
            // The first load in the process also starts libtorch and, for CUDA, the device's context; later loads are the engine's own cost.
            var cold = Stopwatch.StartNew();
            EngineLoading.Load(enginePath, new ModelLoadOptions { CudaGraphs = false }).Dispose();
            var coldLoadMs = cold.Elapsed.TotalMilliseconds;

            var results = new JsonArray();
            JsonObject? engineInfo = null;
            foreach (var graphs in graphModes)
            {
                var load = Stopwatch.StartNew();
                using var engine = CompiledModel.Load(enginePath, new ModelLoadOptions { CudaGraphs = graphs });
                var loadMs = load.Elapsed.TotalMilliseconds;
                var device = engine.TorchDevice();
                var m = engine.Manifest;
                engineInfo ??= new JsonObject
                {
                    ["engine"] = m.Name,
                    ["device"] = device.type.ToString().ToLowerInvariant(),
                    ["computeCapability"] = m.Target.ComputeCapability,
                    ["precision"] = m.Target.Precision,
                    ["backends"] = new JsonArray([.. engine.Backends.Select(b => (JsonNode?)b)]),
                    ["coldLoadMs"] = coldLoadMs,
                };
                foreach (var c in chosen)
                {
                    using var scope = NewDisposeScope();
                    var inputs = c.Inputs.Select(n => file.ToTensor(n).to(device)).ToArray();
                    var firstMs = CommandErrors.About(casesPath, () => Time(engine, inputs, device)) / 1000;
                    for (var i = 0; i < parse.GetValue(warmupOption); i++)
                    {
                        Time(engine, inputs, device);
                    }
                    var samples = new List<double>();
                    var budget = Stopwatch.StartNew();
                    while (samples.Count < parse.GetValue(iterationsOption) && (samples.Count < 5 || budget.Elapsed.TotalSeconds < 3))
                    {
                        samples.Add(Time(engine, inputs, device));
                    }
                    var latency = new LatencySamples(samples);
                    var usedGraphs = graphs && device.type == TorchSharp.DeviceType.CUDA && !engine.Notes.Any(n =>
                        n.StartsWith(DiagnosticCodes.CudaGraphsOff, StringComparison.Ordinal) || n.StartsWith(DiagnosticCodes.CudaGraphCaptureFailed, StringComparison.Ordinal));
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"bench {m.Name} on {device.type.ToString().ToLowerInvariant()}{(m.Target.ComputeCapability is { } cc ? $" (sm {cc})" : "")} {m.Target.Precision}{(device.type == TorchSharp.DeviceType.CUDA ? usedGraphs ? " with CUDA graphs" : " without CUDA graphs" : "")}, case {c.Name}: load {loadMs:F1} ms (first in the process {coldLoadMs:F1} ms), first run {firstMs:F1} ms, median {latency.Median:F1} us (p10 {latency.Percentile(10):F1}, p90 {latency.Percentile(90):F1}) over {latency.Count} runs"));
                    results.Add(new JsonObject
                    {
                        ["case"] = c.Name,
                        ["cudaGraphs"] = usedGraphs,
                        ["loadMs"] = loadMs,
                        ["firstRunMs"] = firstMs,
                        ["medianUs"] = latency.Median,
                        ["p10Us"] = latency.Percentile(10),
                        ["p90Us"] = latency.Percentile(90),
                        ["runs"] = latency.Count,
                        ["notes"] = new JsonArray([.. engine.Notes.Select(n => (JsonNode?)n)]),
                    });
                }
                foreach (var note in engine.Notes)
                {
                    Console.Out.WriteLine($"note {note}");
                }
            }
            if (parse.GetValue(jsonOption) is { } json)
            {
                engineInfo!["results"] = results;
                OutputFile.Write(json.FullName, Encoding.UTF8.GetBytes(engineInfo.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            }
            return 0;
        }));
        return command;
    }

    /// <returns>Microseconds from the call until the device has finished the run.</returns>
    private static double Time(CompiledModel engine, Tensor[] inputs, Device device)
    {
        var start = Stopwatch.GetTimestamp();
        var outputs = engine.Run(inputs);
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        foreach (var o in outputs)
        {
            o.Dispose();
        }
        return elapsed;
    }
}
