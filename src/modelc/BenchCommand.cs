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
using static TorchSharp.torch;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc bench &lt;engine&gt; --cases &lt;cases.safetensors&gt; [--case opt] [--warmup N] [--iterations N] [--json file]</c>:
/// times loading the engine (file read, checks, weights onto the device; the first load in the process also starts
/// libtorch and the device) and its first run, then the median run
/// with the case's inputs already on the engine's device, waiting for the device after every run (as PyTorch
/// anchors do with torch.cuda.synchronize), so the numbers stand next to PyTorch's on the same machine.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var engineArg = new Argument<FileInfo>("engine") { Description = "An engine written by modelc compile." };
        var casesOption = new Option<FileInfo>("--cases") { Description = "Tensors <case>.in.<i> (and <case>.out.<j>).", Required = true };
        var caseOption = new Option<string>("--case") { Description = "Which case's inputs to time (default opt, else the first).", DefaultValueFactory = _ => "opt" };
        var warmupOption = new Option<int>("--warmup") { Description = "Untimed runs before timing.", DefaultValueFactory = _ => 10 };
        var iterationsOption = new Option<int>("--iterations") { Description = "Timed runs (at most; timing also stops after 3 s).", DefaultValueFactory = _ => 200 };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Also write the numbers as a JSON object to this file." };
        var command = new Command("bench", "Time an engine's load and its runs on one case.") { engineArg, casesOption, caseOption, warmupOption, iterationsOption, jsonOption };
        command.SetAction(parse => CommandErrors.Run(parse.GetValue(engineArg)!.FullName, () =>
        {
            var enginePath = parse.GetValue(engineArg)!.FullName;
            var casesPath = parse.GetValue(casesOption)!.FullName;
            var file = SafetensorsFile.Read(casesPath);
            var cases = CasesFile.Read(file, casesPath);
            var wanted = parse.GetValue(caseOption)!;
            var chosen = cases.FirstOrDefault(c => c.Name == wanted) ?? cases.FirstOrDefault()
                ?? throw new ModelBuildException(DiagnosticCodes.CasesMalformed, "the cases file holds no case.", casesPath);

            // The first load also starts libtorch and, for CUDA, the device's context; the second is the engine's own cost.
            var load = Stopwatch.StartNew();
            EngineLoading.Load(enginePath).Dispose();
            var coldLoadMs = load.Elapsed.TotalMilliseconds;
            load.Restart();
            using var engine = CompiledModel.Load(enginePath);
            var loadMs = load.Elapsed.TotalMilliseconds;
            using var scope = NewDisposeScope();
            var inputs = chosen.Inputs.Select(n => file.ToTensor(n).to(engine.Device)).ToArray();
            var firstMs = CommandErrors.About(casesPath, () => Time(engine, inputs)) / 1000;
            for (var i = 0; i < parse.GetValue(warmupOption); i++)
            {
                Time(engine, inputs);
            }
            var samples = new List<double>();
            var budget = Stopwatch.StartNew();
            while (samples.Count < parse.GetValue(iterationsOption) && (samples.Count < 5 || budget.Elapsed.TotalSeconds < 3))
            {
                samples.Add(Time(engine, inputs));
            }
            var latency = new LatencySamples(samples);

            var m = engine.Manifest;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench {m.Name} on {engine.Device.type.ToString().ToLowerInvariant()}{(m.Target.ComputeCapability is { } cc ? $" (sm {cc})" : "")} {m.Target.Precision}, case {chosen.Name}: load {loadMs:F1} ms (first in the process {coldLoadMs:F1} ms), first run {firstMs:F1} ms, median {latency.Median:F1} us (p10 {latency.Percentile(10):F1}, p90 {latency.Percentile(90):F1}) over {latency.Count} runs"));
            if (parse.GetValue(jsonOption) is { } json)
            {
                var result = new JsonObject
                {
                    ["engine"] = m.Name,
                    ["device"] = engine.Device.type.ToString().ToLowerInvariant(),
                    ["computeCapability"] = m.Target.ComputeCapability,
                    ["precision"] = m.Target.Precision,
                    ["case"] = chosen.Name,
                    ["coldLoadMs"] = coldLoadMs,
                    ["loadMs"] = loadMs,
                    ["firstRunMs"] = firstMs,
                    ["medianUs"] = latency.Median,
                    ["p10Us"] = latency.Percentile(10),
                    ["p90Us"] = latency.Percentile(90),
                    ["runs"] = latency.Count,
                };
                OutputFile.Write(json.FullName, Encoding.UTF8.GetBytes(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            }
            return 0;
        }));
        return command;
    }

    /// <returns>Microseconds from the call until the device has finished the run.</returns>
    private static double Time(CompiledModel engine, Tensor[] inputs)
    {
        var start = Stopwatch.GetTimestamp();
        var outputs = engine.Run(inputs);
        if (engine.Device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(engine.Device);
        }
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        foreach (var o in outputs)
        {
            o.Dispose();
        }
        return elapsed;
    }
}
