using ModelBuild.Diagnostics;

namespace ModelBuild.Cli;

/// <summary>How every command reports a failure: one line on stderr, "modelc: error MB1234: file: message", exit code 1.</summary>
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
}
