using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// Runs on every build and must stay cheap (no hashing of models): validates each ModelCompile item's metadata,
/// predicts its outputs (engine, accessor, stamp) and writes the item's stamp file when its options changed.
/// The stamp is an input of the compile target, so a metadata change recompiles exactly that item; timestamps of
/// the model file catch content changes.
/// </summary>
public sealed class ResolveModelCompileItems : Task, IIncrementalTask
{
    [Required]
    public ITaskItem[] Items { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Where engines, accessors and stamps go (the project's obj folder).</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = "";

    /// <summary>Models larger than this many bytes are copied beside the assembly instead of embedded, unless Embed says otherwise.</summary>
    public long EmbedMaxSize { get; set; } = long.MaxValue;

    /// <summary>Everything outside the item that changes the outputs (compiler and libtorch versions, overrides); part of every stamp.</summary>
    public string ToolIdentity { get; set; } = "";

    /// <summary>The project's main file, where errors point when the item's own file is unknown.</summary>
    public string ProjectFile { get; set; } = "";

    public bool FailIfNotIncremental { get; set; }

    [Output]
    public ITaskItem[] ResolvedItems { get; private set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        var resolved = new List<ITaskItem>();
        var classes = new Dictionary<string, ITaskItem>(StringComparer.Ordinal);
        foreach (var item in Items)
        {
            try
            {
                var result = Resolve(item);
                var fullName = result.GetMetadata("Namespace") + "." + result.GetMetadata("ClassName");
                if (classes.TryGetValue(fullName, out var other))
                {
                    throw new ModelBuildException(DiagnosticCodes.DuplicateAccessorName,
                        $"'{item.ItemSpec}' and '{other.ItemSpec}' would both generate the class {fullName}; set ClassName on one of them.", item.ItemSpec);
                }
                classes.Add(fullName, item);
                WriteStampIfChanged(item, result);
                resolved.Add(result);
            }
            catch (ModelBuildException e)
            {
                LogAtItem(item, e.Code, e.File is null ? e.Detail : $"{e.File}: {e.Detail}");
            }
        }
        ResolvedItems = resolved.ToArray();
        return !Log.HasLoggedErrors;
    }

    private TaskItem Resolve(ITaskItem item)
    {
        var model = item.GetMetadata("FullPath");
        if (!File.Exists(model))
        {
            throw new ModelBuildException(DiagnosticCodes.ModelCompileFileMissing, $"the model file does not exist (looked for {model}).", item.ItemSpec);
        }
        var className = Metadata(item, "ClassName") is { Length: > 0 } name
            ? name
            : ModelAccessorGenerator.ClassNameFromFile(Path.GetFileNameWithoutExtension(model));
        if (!ModelAccessorGenerator.IsIdentifier(className))
        {
            throw new ModelBuildException(DiagnosticCodes.InvalidAccessorName, $"ClassName '{className}' is not a C# identifier.", item.ItemSpec);
        }
        if (ModelAccessorGenerator.MemberNames.Contains(className))
        {
            var from = Metadata(item, "ClassName").Length > 0 ? "ClassName" : "the file name";
            throw new ModelBuildException(DiagnosticCodes.InvalidAccessorName,
                $"the generated class would be named '{className}' (from {from}), which is also the name of one of its members " +
                $"({string.Join(", ", ModelAccessorGenerator.MemberNames)}); set ClassName to another name, e.g. ClassName=\"{className}Engine\".", item.ItemSpec);
        }
        var @namespace = Metadata(item, "Namespace") is { Length: > 0 } ns ? ns : "Models";
        if (!@namespace.Split('.').All(ModelAccessorGenerator.IsIdentifier))
        {
            throw new ModelBuildException(DiagnosticCodes.InvalidAccessorName, $"Namespace '{@namespace}' is not a dotted C# name.", item.ItemSpec);
        }
        var modelName = Metadata(item, "ModelName") is { Length: > 0 } mn ? mn : Path.GetFileNameWithoutExtension(model);
        var options = ModelCompileOptions.Parse(item.ItemSpec, Metadata(item, "Device"), Metadata(item, "Precision"),
            Metadata(item, "Shapes"), Metadata(item, "Tolerance"), modelName,
            Metadata(item, "Backend"), Metadata(item, "MinBlockSize"), Metadata(item, "TorchExecutedOps"));
        var embed = Metadata(item, "Embed").ToLowerInvariant() switch
        {
            "" => new FileInfo(model).Length <= EmbedMaxSize,
            "true" => true,
            "false" => false,
            var other => throw new ModelBuildException(DiagnosticCodes.MalformedEmbed, $"Embed '{other}' is not true or false.", item.ItemSpec),
        };
        var directory = Path.GetFullPath(IntermediateDirectory);
        var engineFolder = Metadata(item, "EngineFolder").Replace('\\', '/').Trim('/');
        var engineFileName = (engineFolder.Length > 0 ? engineFolder + "/" : "") + className + ".engine";
        var location = embed ? new EngineLocation(true, $"{@namespace}.{className}.engine") : new EngineLocation(false, engineFileName);

        var result = new TaskItem(item);
        result.SetMetadata("ModelFullPath", model);
        result.SetMetadata("DeclaringFile", ItemLocation.Of(item, ProjectFile, findLine: false).File);
        result.SetMetadata("ClassName", className);
        result.SetMetadata("Namespace", @namespace);
        result.SetMetadata("ModelName", options.Name);
        result.SetMetadata("Device", options.Device);
        result.SetMetadata("Precision", options.Precision);
        result.SetMetadata("Shapes", string.Join(";", options.Shapes));
        result.SetMetadata("Tolerance", options.Tolerance?.ToString("R", CultureInfo.InvariantCulture) ?? "");
        result.SetMetadata("Backend", options.Backend);
        result.SetMetadata("MinBlockSize", options.MinBlockSize?.ToString(CultureInfo.InvariantCulture) ?? "");
        result.SetMetadata("TorchExecutedOps", string.Join(";", options.TorchExecutedOps));
        result.SetMetadata("Embed", embed ? "true" : "false");
        result.SetMetadata("EngineLocation", location.Location);
        result.SetMetadata("EngineFile", Path.Combine(directory, className + ".engine"));
        result.SetMetadata("GeneratedFile", Path.Combine(directory, className + ".g.cs"));
        result.SetMetadata("StampFile", Path.Combine(directory, className + ".options"));
        result.SetMetadata("Options", options.Canonical + $"class={@namespace}.{className}\nlocation={(embed ? "resource" : "file")}:{location.Location}\n" + ToolIdentity + "\n");
        return result;
    }

    private void WriteStampIfChanged(ITaskItem item, ITaskItem resolved)
    {
        var stamp = resolved.GetMetadata("StampFile");
        var content = resolved.GetMetadata("Options");
        if (File.Exists(stamp) && File.ReadAllText(stamp) == content)
        {
            return;
        }
        if (FailIfNotIncremental)
        {
            LogAtItem(item, DiagnosticCodes.ModelCompileOutOfDate, $"{item.ItemSpec}: the options changed since the last build ({stamp}).");
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(stamp)!);
        File.WriteAllText(stamp, content, new UTF8Encoding(false));
        Log.LogMessage(MessageImportance.Low, $"ModelBuild: {item.ItemSpec}: options changed, wrote {stamp}.");
    }

    private void LogAtItem(ITaskItem item, string code, string message)
    {
        var (file, line) = ItemLocation.Of(item, ProjectFile);
        Log.LogError(null, code, null, file, line, 0, 0, 0, message);
    }

    private static string Metadata(ITaskItem item, string name) => item.GetMetadata(name).Trim();
}
