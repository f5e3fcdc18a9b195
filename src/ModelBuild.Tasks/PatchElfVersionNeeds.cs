using System;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelBuild.Diagnostics;
using ModelBuild.ElfPatching;

namespace ModelBuild.Tasks;

/// <summary>
/// Marks unused symbol-version requirements weak in native libraries copied into an output, so that
/// TorchSharp loads on GCC 12's libstdc++ without LD_LIBRARY_PATH tricks (see <see cref="ElfVersionNeedPatcher"/>).
/// </summary>
public sealed class PatchElfVersionNeeds : Task
{
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Version names to weaken; defaults to <see cref="ElfVersionNeedPatcher.TorchSharpUnusedVersions"/>.</summary>
    public string[]? Versions { get; set; }

    public override bool Execute()
    {
        var versions = Versions is { Length: > 0 } ? Versions : ElfVersionNeedPatcher.TorchSharpUnusedVersions;
        foreach (var file in Files)
        {
            try
            {
                var outcome = ElfVersionNeedPatcher.PatchFile(file.ItemSpec, versions);
                Log.LogMessage(MessageImportance.Low, $"ModelBuild: {file.ItemSpec}: {outcome}.");
            }
            catch (ModelBuildException e)
            {
                Log.LogError(null, e.Code, null, e.File, 0, 0, 0, 0, e.Detail);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
