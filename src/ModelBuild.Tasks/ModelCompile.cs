using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// Runs <c>modelc compile</c> for one model, out of process (DESIGN.md decision 1), with the options in a response
/// file and libtorch on the child's library path. modelc's <c>modelc: error MBxxxx: file: message</c> lines become
/// MSBuild errors that point at the ModelCompile item (<see cref="ItemFile"/>, <see cref="ItemLine"/>).
/// </summary>
public sealed class ModelCompile : ToolTask
{
    private bool _loggedCodedError;

    [Required]
    public string Model { get; set; } = "";

    [Required]
    public string Output { get; set; } = "";

    /// <summary>modelc.dll (started with <see cref="DotnetHostPath"/>) or a modelc executable.</summary>
    [Required]
    public string ModelcPath { get; set; } = "";

    /// <summary>The folder holding libtorch's libraries; put on the child's library path.</summary>
    [Required]
    public string LibTorchDir { get; set; } = "";

    /// <summary>The dotnet host that runs modelc.dll; empty: DOTNET_HOST_PATH, then dotnet on PATH.</summary>
    public string DotnetHostPath { get; set; } = "";

    public string Device { get; set; } = "cpu";
    public string Precision { get; set; } = "fp32";
    public string Shapes { get; set; } = "";
    public string Tolerance { get; set; } = "";
    public string ModelName { get; set; } = "";

    /// <summary>auto, torch or onnxruntime (empty: auto).</summary>
    public string Backend { get; set; } = "";

    /// <summary>Empty: modelc's default.</summary>
    public string MinBlockSize { get; set; } = "";

    /// <summary>Operators forced to TorchSharp, separated by ';'.</summary>
    public string TorchExecutedOps { get; set; } = "";

    /// <summary>The project file and line of the ModelCompile item, where errors point.</summary>
    public string ItemFile { get; set; } = "";
    public int ItemLine { get; set; }

    protected override string ToolName => IsManagedModelc ? "dotnet" : Path.GetFileName(ModelcPath);

    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Normal;

    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.High;

    private bool IsManagedModelc => ModelcPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    public override bool Execute()
    {
        var libraryPath = ModelcToolSelection.LibraryPathVariable;
        var existing = Environment.GetEnvironmentVariable(libraryPath);
        EnvironmentVariables = new[]
        {
            $"{libraryPath}={LibTorchDir}{(string.IsNullOrEmpty(existing) ? "" : Path.PathSeparator + existing)}",
            // modelc loads libtorch from the folder resolved here (property first), not from an inherited variable.
            $"{ModelcToolSelection.LibTorchVariable}={LibTorchDir}",
        };
        return base.Execute();
    }

    protected override string GenerateFullPathToTool()
    {
        if (!IsManagedModelc)
        {
            return ModelcPath;
        }
        if (!string.IsNullOrEmpty(DotnetHostPath))
        {
            return DotnetHostPath;
        }
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    protected override string GenerateCommandLineCommands() => IsManagedModelc ? $"exec \"{ModelcPath}\"" : "";

    /// <summary>One argument per line, quoted, as System.CommandLine reads response files.</summary>
    protected override string GenerateResponseFileCommands()
    {
        var options = ModelCompileOptions.Parse(Model, Device, Precision, Shapes, Tolerance, ModelName, Backend, MinBlockSize, TorchExecutedOps);
        var arguments = new List<string> { "compile", Model, "-o", Output };
        arguments.AddRange(options.ToModelcArguments());
        var text = new StringBuilder();
        foreach (var argument in arguments)
        {
            text.Append('"').Append(argument.Replace("\"", "\\\"")).Append('"').Append('\n');
        }
        return text.ToString();
    }

    protected override Encoding ResponseFileEncoding => new UTF8Encoding(false);

    protected override bool ValidateParameters()
    {
        try
        {
            ModelCompileOptions.Parse(Model, Device, Precision, Shapes, Tolerance, ModelName, Backend, MinBlockSize, TorchExecutedOps);
            return true;
        }
        catch (ModelBuildException e)
        {
            LogAtItem(true, e.Code, $"{e.File}: {e.Detail}");
            return false;
        }
    }

    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        if (ModelcDiagnostic.TryParse(singleLine) is { } diagnostic)
        {
            _loggedCodedError |= diagnostic.IsError;
            LogAtItem(diagnostic.IsError, diagnostic.Code, diagnostic.File is null ? diagnostic.Message : $"{diagnostic.File}: {diagnostic.Message}");
            return;
        }
        Log.LogMessage(messageImportance, singleLine);
    }

    protected override bool HandleTaskExecutionErrors()
    {
        if (!_loggedCodedError)
        {
            LogAtItem(true, DiagnosticCodes.ModelcFailed,
                $"{Model}: modelc exited with code {ExitCode} without reporting an MB error; its output is above. Command: {GenerateFullPathToTool()} {GenerateCommandLineCommands()} compile \"{Model}\" -o \"{Output}\"");
        }
        return false;
    }

    private void LogAtItem(bool error, string code, string message)
    {
        var file = ItemFile.Length > 0 ? ItemFile : null;
        if (error)
        {
            Log.LogError(null, code, null, file, ItemLine, 0, 0, 0, message);
        }
        else
        {
            Log.LogWarning(null, code, null, file, ItemLine, 0, 0, 0, message);
        }
    }
}
