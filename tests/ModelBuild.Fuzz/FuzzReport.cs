using System.Globalization;

namespace ModelBuild.Fuzz;

/// <summary>An input that failed the harness: an exception without a code, a hang, memory over the bound, an error naming no file.</summary>
internal sealed record FuzzFailure(long Index, string Seed, string Kind, string Detail, string? Kept);

/// <summary>A slow input, for the report's list of the slowest.</summary>
internal sealed record SlowInput(long Index, string Seed, double Milliseconds, string Outcome);

/// <summary>What a run of one target came to; serialized as the harness's JSON.</summary>
internal sealed class FuzzReport(string target, int seed, long start)
{
    public string Target { get; } = target;
    public int Seed { get; } = seed;
    public long Start { get; } = start;
    public long Inputs { get; set; }
    public double Seconds { get; set; }
    public double InputsPerSecond => Seconds > 0 ? Math.Round(Inputs / Seconds, 1) : 0;

    /// <summary>Inputs read without an error (mutations that left the file valid).</summary>
    public long Read { get; set; }

    /// <summary>Inputs refused with a coded error, per code.</summary>
    public SortedDictionary<string, long> Codes { get; } = new(StringComparer.Ordinal);

    public long Unhandled { get; set; }
    public long Hangs { get; set; }
    public long OverMemory { get; set; }
    public long Unnamed { get; set; }
    public List<FuzzFailure> Failures { get; } = [];

    /// <summary>Inputs read a second time after a full collection, because the first read looked over the memory bound.</summary>
    public long Remeasured { get; set; }

    public long MaxAllocatedBytes { get; set; }
    public long MaxAllocatedInputBytes { get; set; }
    public long MaxRssGrowthBytes { get; set; }
    public long ProcessPeakRssBytes { get; set; }
    public List<SlowInput> Slowest { get; } = [];

    public bool Passed => Unhandled == 0 && Hangs == 0 && OverMemory == 0 && Unnamed == 0;

    public override string ToString()
    {
        var codes = string.Join(", ", Codes.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}"));
        var slowest = Slowest.Count > 0 ? $"; slowest {Slowest[0].Milliseconds:F0} ms (input {Slowest[0].Index})" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Target}: {Inputs} inputs in {Seconds:F1} s ({InputsPerSecond}/s): {Read} read, {Codes.Values.Sum()} refused ({codes}); {Unhandled} unhandled, {Hangs} hangs, {OverMemory} over memory, {Unnamed} naming no file; max allocated {MiB(MaxAllocatedBytes)} (input of {MiB(MaxAllocatedInputBytes)}), max RSS growth {MiB(MaxRssGrowthBytes)} ({Remeasured} measured again), process peak RSS {MiB(ProcessPeakRssBytes)}{slowest}");
    }

    private static string MiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB");
}
