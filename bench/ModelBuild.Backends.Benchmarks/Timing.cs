using System.Diagnostics;

namespace ModelBuild.Backends.Benchmarks;

/// <summary>Warm run times of an action: warm-up first, then up to a number of runs or a time budget.</summary>
internal static class Timing
{
    /// <summary>Microseconds per run, after at least 10 warm-up runs and 0.3 s (allocators and caches settle).</summary>
    public static List<double> Samples(Action action, int runs, double seconds)
    {
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < 10 || warming.Elapsed.TotalSeconds < 0.3; i++)
        {
            action();
        }
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < runs && (samples.Count < 10 || total.Elapsed.TotalSeconds < seconds))
        {
            var start = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        return samples;
    }
}
