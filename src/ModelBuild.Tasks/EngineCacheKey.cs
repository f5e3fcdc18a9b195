using System.IO;
using System.Text;

namespace ModelBuild.Tasks;

/// <summary>
/// The content address of an engine (DESIGN.md decision 7): SHA-256 over the model's bytes, the normalized options,
/// the compiler and libtorch versions and the target. Anything that can change the engine's bytes is in it;
/// nothing else is (not the model's path, not timestamps), so agents that build the same model share entries.
/// </summary>
public static class EngineCacheKey
{
    /// <summary>Bumped when the key's layout changes, so that old entries are never mistaken for new ones.</summary>
    private const string Layout = "modelbuild-engine-key/1";

    public static string Compute(string modelSha256, ModelCompileOptions options, string compilerVersion, string libTorchVersion)
    {
        var text = new StringBuilder()
            .Append(Layout).Append('\n')
            .Append("model=").Append(modelSha256).Append('\n')
            .Append(options.Canonical)
            .Append("compiler=").Append(compilerVersion).Append('\n')
            .Append("libtorch=").Append(libTorchVersion).Append('\n')
            .Append("target=").Append(options.Device).Append('/').Append(options.Precision).Append('\n');
        return Sha256Hex.Of(Encoding.UTF8.GetBytes(text.ToString()));
    }

    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Sha256Hex.Of(stream);
    }
}
