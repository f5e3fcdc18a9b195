using System.Diagnostics;

namespace ModelBuild.Cli.Tests;

/// <summary>Runs the real modelc (built next to the tests) as a process and collects its exit code and output.</summary>
internal static class ModelcProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "modelc.dll");

    public static (int Code, string Stdout, string Stderr) Run(params string[] args) => RunAt(Dll, new Dictionary<string, string>(), args);

    /// <summary>Runs the modelc.dll at <paramref name="dll"/> with extra environment variables.</summary>
    public static (int Code, string Stdout, string Stderr) RunAt(string dll, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }
}
