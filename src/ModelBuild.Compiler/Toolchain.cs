using System.Reflection;
using ModelBuild.Engine.Manifest;

namespace ModelBuild.Compiler;

/// <summary>The versions this compiler was built with (eng/Versions.props), recorded in every manifest.</summary>
public static class Toolchain
{
    public static string ModelBuildVersion => Metadata("ModelBuild.Version");

    /// <summary>The NuGet version range of ModelBuild.Runtime that may load the engines this compiler writes.</summary>
    public static string RuntimeRange => Metadata("ModelBuild.RuntimeRange");

    public static ManifestToolchain Manifest => new(ModelBuildVersion, Metadata("ModelBuild.TorchSharpVersion"), Metadata("ModelBuild.LibTorchVersion"));

    private static string Metadata(string key) =>
        typeof(Toolchain).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
