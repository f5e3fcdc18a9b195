using System.Diagnostics;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;

namespace ModelBuild.Fuzz;

/// <param name="Seed">Fixes every input: input <c>i</c> of a target is made by a generator seeded from (seed, target, i).</param>
/// <param name="Count">How many inputs at most; null: until <paramref name="Budget"/>.</param>
/// <param name="Keep">Where failing inputs are written; null: nowhere.</param>
/// <param name="Scratch">Where inputs are written for readers that take a path.</param>
internal sealed record FuzzSettings(int Seed, long Start, long? Count, TimeSpan? Budget, TimeSpan Timeout, string? Keep, string Scratch);

/// <summary>
/// The mutation loop of one target: make input <c>i</c>, read it on the <see cref="Worker"/> under the timeout,
/// measure its managed allocations and RSS growth, and sort the outcome: read, refused with a code, or a failure
/// (an exception without a code, a hang, memory over <see cref="MemoryBound"/>, a coded error naming no file).
/// </summary>
internal static partial class FuzzRunner
{
    /// <summary>
    /// What one input may cost, allocated or resident: 64 MiB, plus 16 times the input and the tensors it declares
    /// (a bomb that inflates a thousandfold is far over; a reader that copies the file a few times is well under).
    /// </summary>
    public static long MemoryBound(long inputBytes, long declaredBytes) => (64L << 20) + 16 * (inputBytes + Math.Max(0, declaredBytes));

    /// <returns>The report, and whether the run ended on a hang (the worker is stuck, the process must end).</returns>
    public static (FuzzReport Report, bool Hung) Run(FuzzTarget target, FuzzSettings settings)
    {
        var seeds = target.Seeds();
        var report = new FuzzReport(target.Name, settings.Seed, settings.Start);
        var path = Path.Combine(settings.Scratch, "input" + target.Extension);
        using var worker = new Worker();
        WarmUp(target, seeds[0], path);
        var clock = Stopwatch.StartNew();
        var hung = false;
        for (var i = settings.Start; !hung; i++)
        {
            if ((settings.Count is { } count && i - settings.Start >= count) || (settings.Budget is { } budget && clock.Elapsed >= budget))
            {
                break;
            }
            var rng = new Random(InputSeed(settings.Seed, target.Name, i));
            var seed = seeds[rng.Next(seeds.Count)];
            var input = target.Mutate(seed.Bytes, rng);
            hung = Measure(target, settings, report, worker, i, seed, input, path);
            report.Inputs++;
        }
        report.Seconds = clock.Elapsed.TotalSeconds;
        report.ProcessPeakRssBytes = ProcessMemory.Peak;
        return (report, hung);
    }

    /// <summary>Reads a kept input again, with the seed its file name names (its engine, for inputs run on one).</summary>
    public static FuzzReport Replay(FuzzTarget target, string file, FuzzSettings settings)
    {
        var seeds = target.Seeds();
        var seed = seeds.FirstOrDefault(s => Path.GetFileName(file).Contains(FileNamePart(s.Name), StringComparison.Ordinal)) ?? seeds[0];
        var report = new FuzzReport(target.Name, settings.Seed, 0);
        using var worker = new Worker();
        Measure(target, settings, report, worker, 0, seed, File.ReadAllBytes(file), Path.Combine(settings.Scratch, "input" + target.Extension));
        report.Inputs = 1;
        return report;
    }

    /// <summary>One unmeasured read of a seed: the first use of libtorch starts its thread pools and allocators.</summary>
    private static void WarmUp(FuzzTarget target, Seed seed, string path)
    {
        try
        {
            target.Read(seed, seed.Bytes, path);
        }
        catch (ModelBuildException)
        {
            // A seed need not read (the bad inputs, say); what is warmed up is warmed up.
        }
    }

    /// <returns>true when the input hung.</returns>
    private static bool Measure(FuzzTarget target, FuzzSettings settings, FuzzReport report, Worker worker, long index, Seed seed, byte[] input, string path)
    {
        var attempt = Attempt(target, settings, worker, seed, input, path);
        if (attempt is null)
        {
            report.Hangs++;
            Fail(report, settings, index, seed, input, target, "hang", $"still running after {settings.Timeout.TotalSeconds:F0} s");
            return true;
        }
        var outcome = Classify(attempt.Error, target, report, settings, index, seed, input);
        var bound = MemoryBound(input.Length, attempt.Declared);
        if (attempt.Allocated > bound || attempt.Growth > bound)
        {
            // RSS also grows when a collection that this input merely triggered commits memory for the whole heap: an
            // input over the bound is read again after a full collection, and only what it costs then counts.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            attempt = Attempt(target, settings, worker, seed, input, path) ?? attempt;
            report.Remeasured++;
        }
        if (attempt.Allocated > report.MaxAllocatedBytes)
        {
            report.MaxAllocatedBytes = attempt.Allocated;
            report.MaxAllocatedInputBytes = input.Length;
        }
        report.MaxRssGrowthBytes = Math.Max(report.MaxRssGrowthBytes, attempt.Growth);
        if (attempt.Allocated > bound || attempt.Growth > bound)
        {
            report.OverMemory++;
            Fail(report, settings, index, seed, input, target, "memory",
                $"allocated {attempt.Allocated} bytes and grew RSS by {attempt.Growth} for an input of {input.Length} declaring {attempt.Declared}: over the bound of {bound}");
        }
        Slow(report, new SlowInput(index, seed.Name, Math.Round(attempt.Milliseconds, 1), outcome));
        return false;
    }

    private sealed record Outcome(Exception? Error, long Declared, long Allocated, long Growth, double Milliseconds);

    /// <summary>One read of the input on the worker: what it threw, declared, allocated and grew RSS by; null when it hung.</summary>
    private static Outcome? Attempt(FuzzTarget target, FuzzSettings settings, Worker worker, Seed seed, byte[] input, string path)
    {
        Exception? error = null;
        long declared = 0, allocated = 0;
        ProcessMemory.ResetPeak();
        var resident = ProcessMemory.Resident;
        var fileBacked = ProcessMemory.FileBacked;
        var start = Stopwatch.GetTimestamp();
        var finished = worker.TryRun(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                declared = target.Read(seed, input, path);
            }
            catch (Exception e)
            {
                error = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, settings.Timeout);
        if (!finished)
        {
            return null;
        }
        var milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var growth = ProcessMemory.Peak - resident - Math.Max(0, ProcessMemory.FileBacked - fileBacked);
        return new Outcome(error, declared, allocated, growth, milliseconds);
    }

    private static string Classify(Exception? error, FuzzTarget target, FuzzReport report, FuzzSettings settings, long index, Seed seed, byte[] input)
    {
        switch (error)
        {
            case null:
                report.Read++;
                return "read";
            case ModelBuildException coded when CodeShape().IsMatch(coded.Code):
                report.Codes[coded.Code] = report.Codes.GetValueOrDefault(coded.Code) + 1;
                if (target.NamesFile && coded.File is null)
                {
                    report.Unnamed++;
                    Fail(report, settings, index, seed, input, target, "unnamed", coded.Message);
                }
                return coded.Code;
            default:
                report.Unhandled++;
                Fail(report, settings, index, seed, input, target, "unhandled", Describe(error));
                return error.GetType().Name;
        }
    }

    private static void Fail(FuzzReport report, FuzzSettings settings, long index, Seed seed, byte[] input, FuzzTarget target, string kind, string detail)
    {
        string? kept = null;
        if (settings.Keep is { } folder)
        {
            Directory.CreateDirectory(folder);
            kept = Path.Combine(folder, $"{target.Name}-s{settings.Seed}-{index}-{FileNamePart(seed.Name)}{target.Extension}");
            File.WriteAllBytes(kept, input);
        }
        // The first hundred are listed; the counts hold the rest.
        if (report.Failures.Count < 100)
        {
            report.Failures.Add(new FuzzFailure(index, seed.Name, kind, detail, kept));
        }
    }

    private static void Slow(FuzzReport report, SlowInput input)
    {
        report.Slowest.Add(input);
        report.Slowest.Sort((a, b) => b.Milliseconds.CompareTo(a.Milliseconds));
        if (report.Slowest.Count > 5)
        {
            report.Slowest.RemoveAt(5);
        }
    }

    /// <summary>The exception, its message's first line, and the innermost ModelBuild frame it came through.</summary>
    private static string Describe(Exception e)
    {
        var frame = e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("ModelBuild.", StringComparison.Ordinal)) ?? "";
        return $"{e.GetType().FullName}: {e.Message.Split('\n')[0]} {frame}";
    }

    private static string FileNamePart(string seedName) => seedName.Replace('/', '_');

    /// <summary>FNV-1a of the run's seed, the target's name and the index: the same input on every machine and run.</summary>
    private static int InputSeed(int seed, string target, long index)
    {
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes($"{seed}/{target}/{index}"))
        {
            hash = (hash ^ b) * 16777619u;
        }
        return (int)hash;
    }

    [GeneratedRegex(@"^MB\d{4}$")]
    private static partial Regex CodeShape();
}
