using System.Diagnostics;

namespace ModelBuild.Runtime.Benchmarks;

/// <summary>
/// Median wall time of an action after warm-up, bounded by an iteration count and a time budget. Warm-up runs for at
/// least <c>warmupSeconds</c> as well as <c>warmup</c> calls: on this VM whatever is measured first after a pause runs
/// up to twice as slow for a few hundred milliseconds (allocator and clock ramp), which would penalise it unfairly.
/// </summary>
internal static class Timing
{
    public static double MedianMicroseconds(Action action, int warmup = 5, int iterations = 200, double budgetSeconds = 2, double warmupSeconds = 0.5)
    {
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < warmup || warming.Elapsed.TotalSeconds < warmupSeconds; i++)
        {
            action();
        }
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < iterations && (samples.Count < 5 || total.Elapsed.TotalSeconds < budgetSeconds))
        {
            var t = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
