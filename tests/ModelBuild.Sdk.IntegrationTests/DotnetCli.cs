using System.Diagnostics;
using System.Text;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// Runs the real dotnet CLI (or a tool it installed) the way a user's shell would, isolated from the test host:
/// packages restore into the workspace's packages folder, and no MSBuild variable of dotnet test leaks in.
/// </summary>
internal static class DotnetCli
{
    public static ProcessResult Run(string workingDirectory, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null) =>
        Start(workingDirectory, file, arguments, environment).Wait();

    /// <summary>Starts the process and returns at once (for builds that run side by side, or are interrupted).</summary>
    public static RunningProcess Start(string workingDirectory, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The test host runs under dotnet test: its MSBuild variables must not leak into the builds under test.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["NUGET_PACKAGES"] = IntegrationWorkspace.PackagesFolder;
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new RunningProcess(process, output);
    }
}

/// <summary>A started dotnet process whose output is being collected.</summary>
internal sealed class RunningProcess(Process process, StringBuilder output)
{
    public ProcessResult Wait()
    {
        process.WaitForExit();
        var result = new ProcessResult(process.ExitCode, output.ToString());
        process.Dispose();
        return result;
    }
}
