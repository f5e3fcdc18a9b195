using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;

// Loads an engine, runs its fixture's opt case again and again through the HostTensor API, and samples resident memory
// (VmRSS) and the live managed heap at the start, every --every runs and at the end (docs/reliability.md, "Soak").
var engine = new Argument<FileInfo>("engine") { Description = "A compiled engine (modelc compile)." };
var cases = new Argument<FileInfo>("cases") { Description = "Its fixture's cases.safetensors: the opt case's inputs are what is run." };
var runs = new Option<int>("--runs") { Description = "Inferences (default 100,000).", DefaultValueFactory = _ => 100_000 };
var every = new Option<int>("--every") { Description = "Runs between samples (default 10,000).", DefaultValueFactory = _ => 10_000 };
var json = new Option<FileInfo?>("--json") { Description = "Write the samples as JSON to this file." };
var root = new RootCommand("ModelBuild.Soak: memory over many inferences of one engine.") { engine, cases, runs, every, json };
root.SetAction(parse =>
{
    using var model = CompiledModel.Load(parse.GetValue(engine)!.FullName);
    var file = SafetensorsFile.Read(parse.GetValue(cases)!.FullName);
    var inputs = model.Manifest.Inputs.Select((_, i) => file.Entry($"opt.in.{i}"))
        .Select(e => HostTensor.FromBytes(e.DType, e.Shape, file.Data(e.Name).ToArray())).ToArray();
    var total = parse.GetValue(runs);
    var interval = parse.GetValue(every);
    var clock = Stopwatch.StartNew();
    var samples = new List<Sample> { Sample.Take(0, clock) };
    for (var run = 1; run <= total; run++)
    {
        foreach (var output in model.Run(inputs))
        {
            output.Dispose();
        }
        if (run % interval == 0 || run == total)
        {
            samples.Add(Sample.Take(run, clock));
        }
    }

    Console.WriteLine($"{model.Manifest.Name} ({string.Join(", ", model.Backends)}), {total} runs in {clock.Elapsed.TotalSeconds:F1} s");
    Console.WriteLine("| runs | seconds | RSS MiB | live managed heap MiB |");
    Console.WriteLine("| ---: | ---: | ---: | ---: |");
    foreach (var s in samples)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {s.Runs} | {s.Seconds:F1} | {s.RssBytes / 1048576.0:F1} | {s.LiveHeapBytes / 1048576.0:F2} |"));
    }
    // The first interval warms up (thread pools, allocator caches); a leak shows as growth after it.
    var warm = samples[Math.Min(1, samples.Count - 1)];
    var end = samples[^1];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"RSS start {samples[0].RssBytes / 1048576.0:F1} MiB, after {warm.Runs} runs {warm.RssBytes / 1048576.0:F1} MiB, end {end.RssBytes / 1048576.0:F1} MiB: {(end.RssBytes - warm.RssBytes) / 1024.0:F0} KiB over the last {end.Runs - warm.Runs} runs"));
    if (parse.GetValue(json) is { } report)
    {
        File.WriteAllText(report.FullName, JsonSerializer.Serialize(samples, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
    }
});
return root.Parse(args).Invoke();

/// <summary>Memory after a run count: resident (managed and native) and live managed bytes after a full collection.</summary>
internal sealed record Sample(int Runs, double Seconds, long RssBytes, long LiveHeapBytes)
{
    public static Sample Take(int runs, Stopwatch clock)
    {
        var live = GC.GetTotalMemory(forceFullCollection: true);
        var rss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kib = long.Parse(rss["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return new Sample(runs, clock.Elapsed.TotalSeconds, kib * 1024, live);
    }
}
