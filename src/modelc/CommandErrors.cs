using ModelBuild.Diagnostics;

namespace ModelBuild.Cli;

/// <summary>
/// How every command reports a failure: one line on stderr, "modelc: error MB1234: file: message", exit code 1 (MB2001
/// continues with one indented line per unsupported operator).
/// </summary>
internal static class CommandErrors
{
    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (ModelBuildException e)
        {
            Console.Error.WriteLine($"modelc: error {e.Message}");
            return 1;
        }
    }

    /// <summary><see cref="Run"/> for the commands that run models: libtorch is found and loaded first (MB0010, MB0011).</summary>
    public static int RunOnLibTorch(Func<int> command) => Run(() =>
    {
        LibTorchLocator.EnsureLoaded();
        return command();
    });
}
