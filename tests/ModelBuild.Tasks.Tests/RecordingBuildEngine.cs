using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Build.Framework;

namespace ModelBuild.Tasks.Tests;

/// <summary>The part of MSBuild a task talks to when run from a test: it keeps what the task logged.</summary>
internal sealed class RecordingBuildEngine : IBuildEngine
{
    public ConcurrentQueue<BuildErrorEventArgs> Errors { get; } = new();
    public ConcurrentQueue<BuildWarningEventArgs> Warnings { get; } = new();
    public ConcurrentQueue<BuildMessageEventArgs> Messages { get; } = new();

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "test.csproj";

    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Enqueue(e);
    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Enqueue(e);
    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Enqueue(e);
    public void LogCustomEvent(CustomBuildEventArgs e) { }
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
}
