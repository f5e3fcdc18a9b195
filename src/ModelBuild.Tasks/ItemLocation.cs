using Microsoft.Build.Framework;

namespace ModelBuild.Tasks;

/// <summary>The file and line that declared a ModelCompile item, for errors (<see cref="ProjectItemLocator"/>).</summary>
internal static class ItemLocation
{
    /// <summary>DeclaringFile (set when the item was resolved), else DefiningProjectFullPath, else the project.</summary>
    public static (string File, int Line) Of(ITaskItem item, string fallbackProjectFile, bool findLine = true)
    {
        var file = item.GetMetadata("DeclaringFile");
        if (string.IsNullOrEmpty(file))
        {
            file = item.GetMetadata("DefiningProjectFullPath");
        }
        if (string.IsNullOrEmpty(file))
        {
            file = fallbackProjectFile;
        }
        return (file, findLine && !string.IsNullOrEmpty(file) ? ProjectItemLocator.FindLine(file, "ModelCompile", item.ItemSpec) : 0);
    }
}
