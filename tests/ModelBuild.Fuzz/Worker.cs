using System.Collections.Concurrent;

namespace ModelBuild.Fuzz;

/// <summary>
/// The thread inputs are read on, so that the main thread can stop waiting: an input that has not finished within the
/// timeout is a hang. A hung thread cannot be stopped, so after a hang the run ends.
/// </summary>
internal sealed class Worker : IDisposable
{
    private readonly BlockingCollection<Action> _jobs = [];
    private readonly Thread _thread;

    public Worker()
    {
        // The default stack of a secondary thread (1.5 MiB), as the build's worker threads have: a reader that recurses
        // without a bound overflows it here as it would there.
        _thread = new Thread(() =>
        {
            foreach (var job in _jobs.GetConsumingEnumerable())
            {
                job();
            }
        }) { IsBackground = true, Name = "fuzz worker" };
        _thread.Start();
    }

    /// <returns>false when <paramref name="job"/> did not finish within <paramref name="timeout"/>.</returns>
    public bool TryRun(Action job, TimeSpan timeout)
    {
        // Not disposed on a timeout: the hung job may still set it.
        var done = new ManualResetEventSlim();
        _jobs.Add(() =>
        {
            try
            {
                job();
            }
            finally
            {
                done.Set();
            }
        });
        if (!done.Wait(timeout))
        {
            return false;
        }
        done.Dispose();
        return true;
    }

    public void Dispose() => _jobs.CompleteAdding();
}
