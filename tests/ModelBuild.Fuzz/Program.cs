using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ModelBuild.Fuzz;

// A small gen0 budget makes RSS follow live memory rather than garbage; it can only be set before the runtime starts.
if (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null)
{
    var again = new ProcessStartInfo(Environment.ProcessPath!) { Environment = { ["DOTNET_GCgen0size"] = "0x1000000" } };
    foreach (var argument in Environment.GetCommandLineArgs().Skip(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? 0 : 1))
    {
        again.ArgumentList.Add(argument);
    }
    using var child = Process.Start(again)!;
    child.WaitForExit();
    return child.ExitCode;
}

var targets = new Argument<string>("targets") { Description = $"Comma-separated targets, or 'all': {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}." };
var seed = new Option<int>("--seed") { Description = "Fixes every input (default 1).", DefaultValueFactory = _ => 1 };
var start = new Option<long>("--start") { Description = "The first input's index (to resume or replay one input).", DefaultValueFactory = _ => 0 };
var count = new Option<long?>("--count") { Description = "Inputs per target (default: 1000, or as many as --seconds allows)." };
var seconds = new Option<double?>("--seconds") { Description = "Time per target." };
var timeout = new Option<double>("--timeout") { Description = "Seconds an input may take before it counts as a hang (default 10).", DefaultValueFactory = _ => 10 };
var json = new Option<FileInfo?>("--json") { Description = "Write the reports as JSON to this file." };
var keep = new Option<DirectoryInfo?>("--keep") { Description = "Write every failing input to this folder." };
var replay = new Option<FileInfo[]>("--replay") { Description = "Read these files (kept inputs) instead of mutating seeds." };
var root = new RootCommand("ModelBuild.Fuzz: deterministic mutations of the fixtures through every reader (docs/reliability.md).")
{
    targets, seed, start, count, seconds, timeout, json, keep, replay,
};
root.SetAction(parse =>
{
    var names = parse.GetValue(targets)!;
    var chosen = names == "all" ? FuzzTargets.All : [.. names.Split(',').Select(FuzzTargets.Get)];
    var scratch = Directory.CreateTempSubdirectory("modelbuild-fuzz-").FullName;
    var settings = new FuzzSettings(parse.GetValue(seed), parse.GetValue(start),
        parse.GetValue(count) ?? (parse.GetValue(seconds) is null ? 1000 : null),
        parse.GetValue(seconds) is { } s ? TimeSpan.FromSeconds(s) : null,
        TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(keep)?.FullName, scratch);
    var reports = new List<FuzzReport>();
    var hung = false;
    foreach (var target in chosen)
    {
        var before = reports.Count;
        if (parse.GetValue(replay) is { Length: > 0 } files)
        {
            reports.AddRange(files.Select(f => FuzzRunner.Replay(target, f.FullName, settings)));
        }
        else
        {
            var (report, hang) = FuzzRunner.Run(target, settings);
            reports.Add(report);
            hung = hang;
        }
        foreach (var report in reports.Skip(before))
        {
            Console.Out.WriteLine(report);
        }
        if (hung)
        {
            break;
        }
    }
    if (parse.GetValue(json) is { } output)
    {
        File.WriteAllText(output.FullName, JsonSerializer.Serialize(reports, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
    }
    var passed = reports.All(r => r.Passed);
    Console.Out.WriteLine($"{reports.Sum(r => r.Inputs)} inputs, {reports.Count(r => r.Passed)} of {reports.Count} targets passed");
    if (hung)
    {
        // The hung input still runs on the worker thread: end the process rather than wait for it.
        Console.Out.Flush();
        Environment.Exit(2);
    }
    Directory.Delete(scratch, recursive: true);
    return passed ? 0 : 1;
});
return root.Parse(args).Invoke();
