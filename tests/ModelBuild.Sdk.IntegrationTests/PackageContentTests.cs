using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// The packages in artifacts/packages as a user's NuGet client and IDE see them: what their pages show (description,
/// README, repository), IntelliSense files, and symbols whose Source Link points into the repository at the packed commit.
/// </summary>
[TestClass]
public sealed class PackageContentTests
{
    private static readonly string RepositoryUrl = typeof(PackageContentTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryUrl").Value!;

    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>Every package eng/pack.sh made at this version, by id (a package added later is checked too).</summary>
    private static IReadOnlyList<string> PackageIds()
    {
        var suffix = $".{IntegrationWorkspace.Version}.nupkg";
        var ids = Directory.GetFiles(IntegrationWorkspace.Feed, "*" + suffix).Select(f => Path.GetFileName(f)[..^suffix.Length]).Order(StringComparer.Ordinal).ToList();
        foreach (var expected in new[] { "ModelBuild.Diagnostics", "ModelBuild.Engine", "ModelBuild.Runtime", "ModelBuild.Sdk", "ModelBuild.Templates", "modelc" })
        {
            CollectionAssert.Contains(ids, expected, $"eng/pack.sh made no {expected} in {IntegrationWorkspace.Feed}");
        }
        return ids;
    }

    [TestMethod]
    public void Every_package_has_a_description_a_readme_with_an_example_and_the_repository()
    {
        StringAssert.StartsWith(RepositoryUrl, "https://github.com/");
        foreach (var id in PackageIds())
        {
            using var package = Open($"{id}.{IntegrationWorkspace.Version}.nupkg");
            var metadata = Metadata(package);

            var description = Element(metadata, "description");
            Assert.IsTrue(description.Length > 40 && description != "Package Description", $"{id}: description '{description}'");
            Assert.AreEqual("README.md", Element(metadata, "readme"), id);
            var readme = Text(package, "README.md");
            StringAssert.StartsWith(readme, $"# {id}\n");
            StringAssert.Contains(readme, "```", $"{id}: the README shows how to use the package");
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.AreEqual(RepositoryUrl, (string?)repository.Attribute("url"), id);
            StringAssert.Matches((string?)repository.Attribute("commit"), new System.Text.RegularExpressions.Regex("^[0-9a-f]{40}$"), id);
        }
    }

    [TestMethod]
    public void Every_library_ships_xml_docs_and_symbols_whose_source_link_points_at_the_packed_commit()
    {
        var libraries = 0;
        foreach (var id in PackageIds())
        {
            using var package = Open($"{id}.{IntegrationWorkspace.Version}.nupkg");
            foreach (var dll in package.Entries.Select(e => e.FullName).Where(f => f.StartsWith("lib/", StringComparison.Ordinal) && f.EndsWith(".dll", StringComparison.Ordinal)).ToList())
            {
                libraries++;
                using var symbols = Open($"{id}.{IntegrationWorkspace.Version}.snupkg");
                CheckDocs(id, XDocument.Parse(Text(package, Path.ChangeExtension(dll, ".xml"))));
                CheckSymbols(id, Bytes(package, dll), Bytes(symbols, Path.ChangeExtension(dll, ".pdb")), Metadata(package));
            }
        }
        Assert.IsTrue(libraries >= 3, "ModelBuild.Diagnostics, ModelBuild.Engine and ModelBuild.Runtime each ship one library");
    }

    [TestMethod]
    public void The_runtime_api_users_call_first_is_documented()
    {
        using var package = Open($"ModelBuild.Runtime.{IntegrationWorkspace.Version}.nupkg");
        var members = XDocument.Parse(Text(package, "lib/net10.0/ModelBuild.Runtime.xml")).Descendants("member")
            .ToDictionary(m => (string)m.Attribute("name")!, m => m.Element("summary")?.Value.Trim() ?? "");

        StringAssert.Contains(members["M:ModelBuild.Runtime.CompiledModel.Load(System.String,System.String)"], "engine file");
        StringAssert.Contains(members["M:ModelBuild.Runtime.CompiledModel.Run(ModelBuild.Runtime.HostTensor[])"], "compiled ranges");
    }

    private static void CheckDocs(string id, XDocument docs)
    {
        var members = docs.Descendants("member").ToList();
        Assert.IsNotEmpty(members, $"{id}: no documented member");
        var empty = members.Where(m => string.IsNullOrWhiteSpace(m.Value) && !m.Elements("inheritdoc").Any()).Select(m => (string?)m.Attribute("name")).ToList();
        Assert.IsEmpty(empty, $"{id}: members documented with nothing: {string.Join(", ", empty)}");
    }

    private static void CheckSymbols(string id, byte[] dll, byte[] pdbBytes, XElement metadata)
    {
        using var assembly = new PEReader(new MemoryStream(dll));
        var codeView = assembly.ReadCodeViewDebugDirectoryData(assembly.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.CodeView));
        using var pdb = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(pdbBytes));
        var reader = pdb.GetMetadataReader();
        Assert.AreEqual(codeView.Guid, new BlobContentId(reader.DebugMetadataHeader!.Id).Guid, $"{id}: the symbols belong to the packed assembly");

        var sourceLink = reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition).Select(reader.GetCustomDebugInformation)
            .Single(c => reader.GetGuid(c.Kind) == SourceLinkKind);
        using var json = JsonDocument.Parse(reader.GetBlobBytes(sourceLink.Value));
        var target = json.RootElement.GetProperty("documents").EnumerateObject().Single().Value.GetString();
        var commit = (string?)metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("commit");
        Assert.AreEqual($"{RepositoryUrl.Replace("https://github.com/", "https://raw.githubusercontent.com/")}/{commit}/*", target, id);
    }

    [TestMethod]
    public void The_modelc_package_is_a_dotnet_tool_named_modelc_that_carries_no_libtorch()
    {
        using var package = Open($"modelc.{IntegrationWorkspace.Version}.nupkg");

        CollectionAssert.Contains(PackageTypes(package), "DotnetTool");
        var settings = XDocument.Parse(Text(package, "tools/net10.0/any/DotnetToolSettings.xml"));
        Assert.AreEqual("modelc", (string?)settings.Descendants("Command").Single().Attribute("Name"));
        var files = package.Entries.Select(e => e.FullName).ToList();
        CollectionAssert.Contains(files, "tools/net10.0/any/runtimes/linux-x64/native/libLibTorchSharp.so");
        CollectionAssert.Contains(files, "tools/net10.0/any/runtimes/linux-x64/native/libonnxruntime.so", "modelc compiles and validates ONNX Runtime blocks");
        // libtorch (600 MB a platform) is found at run time; only TorchSharp's shim and ONNX Runtime travel.
        var natives = files.Where(f => f.Contains("/native/", StringComparison.Ordinal)
            && !f.Contains("LibTorchSharp", StringComparison.Ordinal) && !f.Contains("onnxruntime", StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(natives, "native files other than TorchSharp's shim and ONNX Runtime: " + string.Join(", ", natives));
    }

    [TestMethod]
    public void The_template_package_creates_projects_on_the_packed_sdk()
    {
        using var package = Open($"ModelBuild.Templates.{IntegrationWorkspace.Version}.nupkg");

        CollectionAssert.Contains(PackageTypes(package), "Template");
        var template = JsonDocument.Parse(Text(package, "content/modelbuild-console/.template.config/template.json"));
        Assert.AreEqual("modelbuild-console", template.RootElement.GetProperty("shortName").GetString());
        StringAssert.Contains(Text(package, "content/modelbuild-console/ModelBuildConsole.csproj"), $"<Sdk Name=\"ModelBuild.Sdk\" Version=\"{IntegrationWorkspace.Version}\" />");
    }

    private static ZipArchive Open(string file)
    {
        var path = Path.Combine(IntegrationWorkspace.Feed, file);
        Assert.IsTrue(File.Exists(path), $"{path} is missing: run eng/pack.sh first (eng/test.sh does).");
        return ZipFile.OpenRead(path);
    }

    private static XElement Metadata(ZipArchive package)
    {
        var nuspec = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var stream = nuspec.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Element(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

    private static List<string?> PackageTypes(ZipArchive package) =>
        Metadata(package).Descendants().Where(e => e.Name.LocalName == "packageType").Select(e => (string?)e.Attribute("name")).ToList();

    private static byte[] Bytes(ZipArchive package, string entry)
    {
        var found = package.GetEntry(entry);
        Assert.IsNotNull(found, $"the package has no {entry}: {string.Join(", ", package.Entries.Select(e => e.FullName))}");
        using var stream = found.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Text(ZipArchive package, string entry) => System.Text.Encoding.UTF8.GetString(Bytes(package, entry)).TrimStart('\uFEFF');
}
