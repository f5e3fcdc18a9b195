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

    [TestMethod]
    [DataRow("ModelBuild.Diagnostics")]
    [DataRow("ModelBuild.Engine")]
    [DataRow("ModelBuild.Runtime")]
    [DataRow("ModelBuild.Sdk")]
    [DataRow("modelc")]
    [DataRow("ModelBuild.Templates")]
    public void Every_package_has_a_description_a_readme_with_an_example_and_the_repository(string id)
    {
        using var package = Open($"{id}.{IntegrationWorkspace.Version}.nupkg");
        var metadata = Metadata(package);

        var description = Element(metadata, "description");
        Assert.IsTrue(description.Length > 40 && description != "Package Description", $"{id}: description '{description}'");
        Assert.AreEqual("README.md", Element(metadata, "readme"));
        var readme = Text(package, "README.md");
        StringAssert.StartsWith(readme, $"# {id}\n");
        StringAssert.Contains(readme, "```", $"{id}: the README shows how to use the package");
        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        StringAssert.StartsWith(RepositoryUrl, "https://github.com/");
        Assert.AreEqual(RepositoryUrl, (string?)repository.Attribute("url"));
        StringAssert.Matches((string?)repository.Attribute("commit"), new System.Text.RegularExpressions.Regex("^[0-9a-f]{40}$"));
    }

    [TestMethod]
    [DataRow("ModelBuild.Diagnostics", "netstandard2.0", "T:ModelBuild.Diagnostics.ModelBuildException")]
    [DataRow("ModelBuild.Engine", "net10.0", "T:ModelBuild.Engine.Container.EngineFile")]
    [DataRow("ModelBuild.Runtime", "net10.0", "M:ModelBuild.Runtime.CompiledModel.Run(TorchSharp.torch.Tensor[])")]
    public void A_library_ships_xml_docs_and_symbols_whose_source_link_points_at_the_packed_commit(string id, string framework, string documentedMember)
    {
        using var package = Open($"{id}.{IntegrationWorkspace.Version}.nupkg");
        using var symbols = Open($"{id}.{IntegrationWorkspace.Version}.snupkg");

        var docs = XDocument.Parse(Text(package, $"lib/{framework}/{id}.xml"));
        var members = docs.Descendants("member").ToList();
        CollectionAssert.Contains(members.Select(m => (string?)m.Attribute("name")).ToList(), documentedMember);
        var empty = members.Where(m => string.IsNullOrWhiteSpace(m.Value) && !m.Elements("inheritdoc").Any()).Select(m => (string?)m.Attribute("name")).ToList();
        Assert.IsEmpty(empty, $"{id}: members documented with nothing: {string.Join(", ", empty)}");

        using var assembly = new PEReader(new MemoryStream(Bytes(package, $"lib/{framework}/{id}.dll")));
        var codeView = assembly.ReadCodeViewDebugDirectoryData(assembly.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.CodeView));
        using var pdb = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(Bytes(symbols, $"lib/{framework}/{id}.pdb")));
        var reader = pdb.GetMetadataReader();
        Assert.AreEqual(codeView.Guid, new BlobContentId(reader.DebugMetadataHeader!.Id).Guid, $"{id}: the symbols belong to the packed assembly");

        var sourceLink = reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition).Select(reader.GetCustomDebugInformation)
            .Single(c => reader.GetGuid(c.Kind) == SourceLinkKind);
        using var json = JsonDocument.Parse(reader.GetBlobBytes(sourceLink.Value));
        var target = json.RootElement.GetProperty("documents").EnumerateObject().Single().Value.GetString();
        var commit = (string?)Metadata(package).Elements().Single(e => e.Name.LocalName == "repository").Attribute("commit");
        Assert.AreEqual($"{RepositoryUrl.Replace("https://github.com/", "https://raw.githubusercontent.com/")}/{commit}/*", target);
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
        var natives = files.Where(f => f.Contains("/native/", StringComparison.Ordinal) && !f.Contains("LibTorchSharp", StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(natives, "native files other than TorchSharp's own: " + string.Join(", ", natives));
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
