using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Backends.Benchmarks;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

// Usage: ModelBuild.Backends.Benchmarks --name N --engine E --onnx M.onnx --ts M.ts.pt --cases C.safetensors
//          [--case opt] [--runs 200] [--seconds 3] [--loads 5] [--rounds 5]
// Prints one JSON line: per runtime its load to first result (ms, median of --loads after one untimed load) and its
// median warm latency (us) over --runs runs or more (a turn lasts 50 ms at least; at most --seconds in all) split into --rounds turns between the runtimes. All use Environment.ProcessorCount threads, which follows the affinity mask (taskset),
// and ONNX Runtime is timed once more on one intra-op thread (ort1) when that count is more than one.
var options = Args.Parse(args);
var threads = Environment.ProcessorCount;
set_num_threads(threads);
using var inference = inference_mode();

var cases = SafetensorsFile.Read(options["cases"]);
var caseName = options.GetValueOrDefault("case", "opt");
var inputNames = cases.Tensors.Keys.Where(k => k.StartsWith(caseName + ".in.", StringComparison.Ordinal))
    .OrderBy(k => int.Parse(k[(caseName.Length + 4)..], CultureInfo.InvariantCulture)).ToList();
if (inputNames.Count == 0)
{
    Console.Error.WriteLine($"{options["cases"]} has no case '{caseName}'");
    return 2;
}
var hosts = inputNames.Select(n => HostTensor.FromBytes(cases.Entry(n).DType, cases.Entry(n).Shape, cases.Data(n).ToArray())).ToArray();
var runs = int.Parse(options.GetValueOrDefault("runs", "200"), CultureInfo.InvariantCulture);
var seconds = double.Parse(options.GetValueOrDefault("seconds", "3"), CultureInfo.InvariantCulture);
var loads = int.Parse(options.GetValueOrDefault("loads", "5"), CultureInfo.InvariantCulture);
var rounds = int.Parse(options.GetValueOrDefault("rounds", "5"), CultureInfo.InvariantCulture);

var turnPause = TimeSpan.FromMilliseconds(20);
var result = new Dictionary<string, object?> { ["model"] = options["name"], ["case"] = caseName, ["threads"] = threads };

// Loads first, then warm latency; both in rounds that take turns (starting with another runtime each round). A process's
// first loads pay for memory it has not used yet (on a VM, page faults cost tens of microseconds each; the C library and
// the .NET heap keep what was freed for the next load): timed one runtime after another, whichever loaded first paid
// 2-5x what it paid later (measured: timm_lcnet 59 ms first, 28 ms after ONNX Runtime's loads). Turns spread that, and a
// machine getting slower or faster during the run (other work on the host, clocks), over all runtimes alike. Every
// runtime's last instance stays loaded until the end.
var loaders = new List<(string Key, Func<IDisposable> Load, Func<IDisposable, Action> Warm)>();

// ModelBuild: the engine file to its first result, then Run over HostTensors (outputs disposed every run).
loaders.Add(("mb", () =>
{
    var model = CompiledModel.Load(options["engine"]);
    DisposeAll(model.Run(hosts));
    return model;
}, model =>
{
    var m = (CompiledModel)model;
    result["mb_backends"] = m.Backends.ToArray();
    return () => DisposeAll(m.Run(hosts));
}));

// ONNX Runtime on PyTorch's export: a session with every optimization, the same thread count as ModelBuild's backend.
loaders.Add(("ort", () => OrtRun(threads), feed => ((OrtFeed)feed).Run));

// The same on one intra-op thread: models of a few hundred microseconds or less often run faster so on these hosts (the
// pool's wake-ups cost more than the split saves). Recorded beside the rest, not part of ModelBuild's ratios.
if (threads > 1)
{
    loaders.Add(("ort1", () => OrtRun(1), feed => ((OrtFeed)feed).Run));
}

// TorchScript through TorchSharp's jit.load (libtorch's interpreter), inputs as CPU tensors made once.
var tensors = inputNames.Select(cases.ToTensor).ToArray();
loaders.Add(("ts", () =>
{
    var module = jit.load(options["ts"]);
    DisposeResult(module.call(tensors.Cast<object>().ToArray()));
    return module;
}, module => () => DisposeResult(((jit.ScriptModule)module).call(tensors.Cast<object>().ToArray()))));

var runtimes = TimeLoads();

var samples = runtimes.ToDictionary(r => r.Key, _ => new List<double>());
// Each round's median per runtime: the ratio of two runtimes' medians in the same round is the one least moved by the
// host getting faster or slower between rounds.
var roundMedians = runtimes.ToDictionary(r => r.Key, _ => new List<double>());
foreach (var (key, _, run) in runtimes)
{
    Timing.WarmUp(run);
}
for (var round = 0; round < rounds; round++)
{
    for (var k = 0; k < runtimes.Count; k++)
    {
        var (key, _, run) = runtimes[(round + k) % runtimes.Count];
        // The runtime timed before this one may leave its pool's threads spinning for a while (libgomp's, under
        // TorchScript, for up to a millisecond); a turn that started at once would share the cores with them, and in
        // this rotation ModelBuild follows TorchScript in most turns.
        Thread.Sleep(turnPause);
        var turn = Timing.Samples(run, Math.Max(1, runs / rounds), seconds / rounds);
        samples[key].AddRange(turn);
        roundMedians[key].Add(Median(turn));
    }
}
if (roundMedians.TryGetValue("mb", out var mbRounds) && roundMedians.TryGetValue("ort", out var ortRounds))
{
    var ratios = mbRounds.Zip(ortRounds, (m, o) => m / o).ToList();
    result["mb_ort_round_ratios"] = ratios.Select(r => Math.Round(r, 3)).ToArray();
    result["mb_ort_paired_ratio"] = Math.Round(Median(ratios), 3);
}
foreach (var (key, instance, _) in runtimes)
{
    result[key + "_us"] = Math.Round(Median(samples[key]), 2);
    result[key + "_runs"] = samples[key].Count;
    instance.Dispose();
}

// Where ModelBuild's load goes (medians of --loads, after the runs): reading the file, checking and parsing the engine
// (hashes, manifest, plan), the whole load from bytes (that check again, then the backends' sessions), the first run;
// and, of the check, the safetensors header and the payload hash alone, timed before the load: after it, the model's
// ONNX Runtime threads still spin on the cores the hash's threads need.
if (result.ContainsKey("mb_load_ms"))
{
    var phases = new Dictionary<string, List<double>> { ["read"] = [], ["engine"] = [], ["load_from_bytes"] = [], ["first_run"] = [], ["engine_header"] = [], ["engine_payload_hash"] = [] };
    for (var i = 0; i < loads; i++)
    {
        var start = Stopwatch.GetTimestamp();
        var bytes = SafetensorsFile.ReadAllBytes(options["engine"]);
        var read = Stopwatch.GetTimestamp();
        var file = SafetensorsFile.Parse(bytes, options["engine"]);
        var parsed = Stopwatch.GetTimestamp();
        EnginePayloadHash.Compute(file.Metadata[EngineFile.PlanKey], file.Tensors.Values.Select(e => (e.Name, e.DType, (IReadOnlyList<long>)e.Shape, file.Data(e.Name))));
        var hashed = Stopwatch.GetTimestamp();
        _ = EngineFile.Read(bytes, options["engine"], CompiledModel.RuntimeVersion);
        var checkedAt = Stopwatch.GetTimestamp();
        using var model = CompiledModel.Load(bytes, options["engine"]);
        var loaded = Stopwatch.GetTimestamp();
        DisposeAll(model.Run(hosts));
        phases["read"].Add(Stopwatch.GetElapsedTime(start, read).TotalMilliseconds);
        phases["engine_header"].Add(Stopwatch.GetElapsedTime(read, parsed).TotalMilliseconds);
        phases["engine_payload_hash"].Add(Stopwatch.GetElapsedTime(parsed, hashed).TotalMilliseconds);
        phases["engine"].Add(Stopwatch.GetElapsedTime(hashed, checkedAt).TotalMilliseconds);
        phases["load_from_bytes"].Add(Stopwatch.GetElapsedTime(checkedAt, loaded).TotalMilliseconds);
        phases["first_run"].Add(Stopwatch.GetElapsedTime(loaded).TotalMilliseconds);
    }
    result["mb_load_phases_ms"] = phases.ToDictionary(p => p.Key, p => Math.Round(Median(p.Value), 3));
}

Console.WriteLine(JsonSerializer.Serialize(result));
return 0;

// Times every loader's load (to its first result): one untimed load each, which also starts the runtime's native
// libraries and compiles its code (recorded apart as <key>_first_load_ms; for ONNX Runtime and TorchScript it follows
// ModelBuild's, which loaded their libraries), then --loads in turns, the median recorded; returns the runtimes with
// their last instances. A runtime that fails records its error instead of numbers, so one broken export does not hide
// the others.
List<(string Key, IDisposable Instance, Action Run)> TimeLoads()
{
    var live = new Dictionary<string, IDisposable>();
    var times = new Dictionary<string, List<double>>();
    foreach (var (key, load, _) in loaders)
    {
        Try(key, () =>
        {
            var first = Stopwatch.GetTimestamp();
            load().Dispose();
            result[key + "_first_load_ms"] = Math.Round(Stopwatch.GetElapsedTime(first).TotalMilliseconds, 3);
            times[key] = [];
        });
    }
    for (var round = 0; round < loads; round++)
    {
        for (var k = 0; k < loaders.Count; k++)
        {
            var (key, load, _) = loaders[(round + k) % loaders.Count];
            if (!times.TryGetValue(key, out var keyTimes))
            {
                continue;
            }
            Try(key, () =>
            {
                if (live.Remove(key, out var previous))
                {
                    previous.Dispose();
                }
                // The runtime that loaded last may leave its pool's threads spinning after its first run (ONNX Runtime's
                // for a while, libgomp's under TorchScript for up to a millisecond), on the cores this load needs.
                Thread.Sleep(turnPause);
                var start = Stopwatch.GetTimestamp();
                live[key] = load();
                keyTimes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            });
        }
    }
    var loaded = new List<(string Key, IDisposable Instance, Action Run)>();
    foreach (var (key, _, warm) in loaders)
    {
        if (!live.TryGetValue(key, out var instance))
        {
            continue;
        }
        result[key + "_load_ms"] = Math.Round(Median(times[key]), 3);
        Try(key, () =>
        {
            var run = warm(instance);
            run();
            loaded.Add((key, instance, run));
        });
    }
    return loaded;

    void Try(string key, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (live.Remove(key, out var instance))
            {
                instance.Dispose();
            }
            times.Remove(key);
            result[key + "_error"] = e.Message.Split('\n')[0];
        }
    }
}

OrtFeed OrtRun(int intraOpThreads)
{
    using var sessionOptions = new SessionOptions
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        IntraOpNumThreads = intraOpThreads,
        InterOpNumThreads = 1,
    };
    var feed = new OrtFeed(new InferenceSession(options["onnx"], sessionOptions), hosts);
    feed.Run();
    return feed;
}

static double Median(List<double> values)
{
    values.Sort();
    return values[values.Count / 2];
}

static void DisposeAll(IEnumerable<IDisposable> values)
{
    foreach (var v in values)
    {
        v.Dispose();
    }
}

static void DisposeResult(object? result)
{
    switch (result)
    {
        case IDisposable d: d.Dispose(); break;
        case System.Collections.IEnumerable items: foreach (var i in items) { DisposeResult(i); } break;
    }
}
