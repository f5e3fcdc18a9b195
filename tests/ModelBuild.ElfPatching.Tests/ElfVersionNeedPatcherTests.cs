using System.Diagnostics;
using System.Reflection;
using ModelBuild.Diagnostics;
using ModelBuild.ElfPatching;

namespace ModelBuild.ElfPatching.Tests;

[TestClass]
public sealed class ElfVersionNeedPatcherTests
{
    private static readonly string[] Glibcxx32 = ["GLIBCXX_3.4.32"];

    private static string UnpatchedLibrary => typeof(ElfVersionNeedPatcherTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelBuild.UnpatchedLibTorchSharp").Value!;

    [TestMethod]
    public void Patch_MarksOnlyTheNamedRequirementWeak_AndChangesTwoBytesAtMost()
    {
        var original = File.ReadAllBytes(UnpatchedLibrary);
        var patched = (byte[])original.Clone();

        Assert.AreEqual(ElfPatchOutcome.Patched, ElfVersionNeedPatcher.Patch(patched, Glibcxx32));

        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        Assert.AreEqual(1, changed.Count, "only the low byte of one vna_flags field should change");
        StringAssert.Contains(ReadElfVersions(patched), "Name: GLIBCXX_3.4.32  Flags: WEAK");
        StringAssert.Contains(ReadElfVersions(original), "Name: GLIBCXX_3.4.32  Flags: none");
    }

    [TestMethod]
    public void Patch_IsIdempotent()
    {
        var once = File.ReadAllBytes(UnpatchedLibrary);
        ElfVersionNeedPatcher.Patch(once, Glibcxx32);
        var twice = (byte[])once.Clone();

        Assert.AreEqual(ElfPatchOutcome.AlreadyWeak, ElfVersionNeedPatcher.Patch(twice, Glibcxx32));
        CollectionAssert.AreEqual(once, twice);
    }

    [TestMethod]
    public void Patch_LeavesABinaryWithoutTheRequirementByteIdentical()
    {
        var ls = File.ReadAllBytes("/bin/ls");
        var copy = (byte[])ls.Clone();

        Assert.AreEqual(ElfPatchOutcome.NotRequired, ElfVersionNeedPatcher.Patch(copy, Glibcxx32));
        CollectionAssert.AreEqual(ls, copy);
    }

    [TestMethod]
    public void Patch_RefusesAVersionThatARelocationUses()
    {
        // libLibTorchSharp.so binds std::condition_variable::wait through GLIBCXX_3.4.30: weakening that would break it.
        var bytes = File.ReadAllBytes(UnpatchedLibrary);
        var copy = (byte[])bytes.Clone();

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ElfVersionNeedPatcher.Patch(copy, ["GLIBCXX_3.4.30"]));

        Assert.AreEqual(DiagnosticCodes.ElfVersionInUse, e.Code);
        CollectionAssert.AreEqual(bytes, copy);
    }

    [TestMethod]
    public void Patch_RefusesNonElfInput()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ElfVersionNeedPatcher.Patch("MZ\x90\0 a Windows DLL, not ELF"u8.ToArray().Concat(new byte[64]).ToArray(), Glibcxx32, "x.dll"));

        Assert.AreEqual(DiagnosticCodes.ElfNotElf, e.Code);
        StringAssert.Contains(e.Message, "x.dll");
    }

    [TestMethod]
    public void Patch_RefusesATruncatedElf()
    {
        var head = File.ReadAllBytes(UnpatchedLibrary).AsSpan(0, 4096).ToArray();

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ElfVersionNeedPatcher.Patch(head, Glibcxx32));

        Assert.AreEqual(DiagnosticCodes.ElfCorrupt, e.Code);
    }

    [TestMethod]
    public void PatchFile_KeepsTheLastWriteTime_SoIncrementalCopiesStayUpToDate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mb-elf-{Guid.NewGuid():N}.so");
        File.Copy(UnpatchedLibrary, path);
        try
        {
            var before = File.GetLastWriteTimeUtc(path);

            Assert.AreEqual(ElfPatchOutcome.Patched, ElfVersionNeedPatcher.PatchFile(path, Glibcxx32));

            Assert.AreEqual(before, File.GetLastWriteTimeUtc(path));
            Assert.AreEqual(ElfPatchOutcome.AlreadyWeak, ElfVersionNeedPatcher.PatchFile(path, Glibcxx32));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string ReadElfVersions(byte[] image)
    {
        var path = Path.Combine(Path.GetTempPath(), $"mb-elf-{Guid.NewGuid():N}.so");
        File.WriteAllBytes(path, image);
        try
        {
            using var p = Process.Start(new ProcessStartInfo("readelf", ["-V", path]) { RedirectStandardOutput = true })!;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return text;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
