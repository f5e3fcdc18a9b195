using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ModelBuild.Diagnostics;

namespace ModelBuild.ElfPatching;

/// <summary>What <see cref="ElfVersionNeedPatcher"/> did to one binary.</summary>
public enum ElfPatchOutcome
{
    /// <summary>The binary requires none of the versions: it was left byte-identical.</summary>
    NotRequired,
    /// <summary>Every requirement of those versions was already weak: left byte-identical.</summary>
    AlreadyWeak,
    /// <summary>At least one requirement was marked weak.</summary>
    Patched,
}

/// <summary>
/// Marks symbol-version requirements weak (VER_FLG_WEAK in <c>.gnu.version_r</c>) in an ELF64 little-endian
/// shared object.
/// </summary>
/// <remarks>
/// Why: TorchSharp's libLibTorchSharp.so requires GLIBCXX_3.4.32 for one symbol, std::ios_base_library_init,
/// that no relocation uses. On GCC 12's libstdc++ (Debian 12, Ubuntu 22.04) that version is missing and the
/// dynamic loader refuses the whole library. A weak requirement makes glibc's loader accept a missing version
/// (dl-version.c) and changes nothing where the version exists. The patcher refuses to weaken a version that a
/// relocation does use, since that symbol would then fail to bind at run time.
/// Only the 2-byte flags of matching vernaux entries change; every other byte stays as it was.
/// </remarks>
public static class ElfVersionNeedPatcher
{
    /// <summary>The versions TorchSharp 0.107.0 needs only for unused symbols.</summary>
    public static readonly IReadOnlyList<string> TorchSharpUnusedVersions = new[] { "GLIBCXX_3.4.32" };

    private const ushort VerFlagWeak = 0x2;
    private const uint ShtRela = 4, ShtRel = 9, ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

    /// <summary>
    /// Patches the file in place (write to a temporary file, then rename), only when something changes. The file keeps
    /// its last-write time, so that incremental copies that compare size and time still see it as up to date.
    /// </summary>
    public static ElfPatchOutcome PatchFile(string path, IEnumerable<string> versions)
    {
        var bytes = File.ReadAllBytes(path);
        var lastWrite = File.GetLastWriteTimeUtc(path);
        var outcome = Patch(bytes, versions, path);
        if (outcome == ElfPatchOutcome.Patched)
        {
            var temp = path + ".mbpatch.tmp";
            File.WriteAllBytes(temp, bytes);
            File.Replace(temp, path, destinationBackupFileName: null);
            File.SetLastWriteTimeUtc(path, lastWrite);
        }
        return outcome;
    }

    /// <summary>Patches <paramref name="image"/> in memory.</summary>
    /// <param name="fileName">Named in errors.</param>
    public static ElfPatchOutcome Patch(byte[] image, IEnumerable<string> versions, string fileName = "<memory>")
    {
        var wanted = new HashSet<string>(versions, StringComparer.Ordinal);
        var elf = new ElfImage(image, fileName);
        var verneed = elf.Sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
        if (verneed is null)
        {
            return ElfPatchOutcome.NotRequired;
        }

        var strings = elf.Section((int)verneed.Link, "the string table of .gnu.version_r");
        var matches = new List<(long FlagsOffset, ushort Flags, ushort Index, string Name)>();
        long entry = verneed.Offset;
        for (uint i = 0; i < verneed.Info; i++)
        {
            elf.Require(entry, 16, ".gnu.version_r entry");
            var count = elf.U16(entry + 2);
            long aux = entry + elf.U32(entry + 8);
            for (int j = 0; j < count; j++)
            {
                elf.Require(aux, 16, ".gnu.version_r auxiliary entry");
                var name = elf.CString(strings, elf.U32(aux + 8));
                if (wanted.Contains(name))
                {
                    matches.Add((aux + 4, elf.U16(aux + 4), elf.U16(aux + 6), name));
                }
                aux += elf.U32(aux + 12);
            }
            entry += elf.U32(entry + 12);
        }

        if (matches.Count == 0)
        {
            return ElfPatchOutcome.NotRequired;
        }
        var toPatch = matches.Where(m => (m.Flags & VerFlagWeak) == 0).ToList();
        if (toPatch.Count == 0)
        {
            return ElfPatchOutcome.AlreadyWeak;
        }

        var used = VersionIndicesUsedByRelocations(elf);
        var inUse = toPatch.FirstOrDefault(m => used.Contains(m.Index));
        if (inUse.Name is not null)
        {
            throw new ModelBuildException(DiagnosticCodes.ElfVersionInUse,
                $"a relocation binds a symbol of version {inUse.Name}; marking it weak would break loading, so the binary was left as it was.",
                fileName);
        }

        foreach (var m in toPatch)
        {
            elf.WriteU16(m.FlagsOffset, (ushort)(m.Flags | VerFlagWeak));
        }
        return ElfPatchOutcome.Patched;
    }

    private static HashSet<ushort> VersionIndicesUsedByRelocations(ElfImage elf)
    {
        var used = new HashSet<ushort>();
        var versym = elf.Sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (versym is null)
        {
            return used;
        }
        for (int i = 0; i < elf.Sections.Count; i++)
        {
            var s = elf.Sections[i];
            if (s.Type != ShtRela && s.Type != ShtRel)
            {
                continue;
            }
            if (elf.Section((int)s.Link, "a relocation's symbol table").Type != ShtDynsym)
            {
                continue;
            }
            long size = s.Type == ShtRela ? 24 : 16;
            elf.Require(s.Offset, s.Size, "relocation section");
            for (long r = s.Offset; r + size <= s.Offset + s.Size; r += size)
            {
                var symbol = (long)(elf.U64(r + 8) >> 32);
                if (symbol == 0)
                {
                    continue;
                }
                long at = versym.Offset + (symbol * 2);
                elf.Require(at, 2, ".gnu.version entry");
                used.Add((ushort)(elf.U16(at) & 0x7fff));
            }
        }
        return used;
    }

    private sealed class Section
    {
        public uint Type;
        public long Offset;
        public long Size;
        public uint Link;
        public uint Info;
    }

    /// <summary>Bounds-checked little-endian reads over an ELF64 image.</summary>
    private sealed class ElfImage
    {
        private readonly byte[] _b;
        private readonly string _file;

        public ElfImage(byte[] image, string file)
        {
            _b = image;
            _file = file;
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            {
                throw new ModelBuildException(DiagnosticCodes.ElfNotElf,
                    "not an ELF binary (no \\x7fELF magic); only Linux shared objects can be patched.", file);
            }
            if (image[4] != 2 || image[5] != 1)
            {
                throw new ModelBuildException(DiagnosticCodes.ElfUnsupported,
                    $"ELF class {image[4]} with byte order {image[5]} is not supported; only ELF64 little-endian (x86-64, arm64) is.", file);
            }
            long shoff = (long)U64(0x28);
            int shentsize = U16(0x3a), shnum = U16(0x3c);
            if (shnum > 0 && shentsize < 64)
            {
                throw Corrupt($"section header size {shentsize} is below 64");
            }
            Require(shoff, (long)shentsize * shnum, "section header table");
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + ((long)i * shentsize);
                var s = new Section { Type = U32(h + 4), Offset = (long)U64(h + 24), Size = (long)U64(h + 32), Link = U32(h + 40), Info = U32(h + 44) };
                if (s.Type != 8 /* SHT_NOBITS */)
                {
                    Require(s.Offset, s.Size, $"section {i}");
                }
                Sections.Add(s);
            }
        }

        public List<Section> Sections { get; } = new();

        public Section Section(int index, string what) =>
            index >= 0 && index < Sections.Count ? Sections[index] : throw Corrupt($"{what} is section {index}, which does not exist");

        public void Require(long offset, long length, string what)
        {
            if (offset < 0 || length < 0 || offset > _b.Length - length)
            {
                throw Corrupt($"{what} at offset {offset} (+{length} bytes) lies outside the {_b.Length}-byte file");
            }
        }

        public ushort U16(long o) { Require(o, 2, "field"); return (ushort)(_b[o] | (_b[o + 1] << 8)); }

        public uint U32(long o) { Require(o, 4, "field"); return (uint)(_b[o] | (_b[o + 1] << 8) | (_b[o + 2] << 16) | (_b[o + 3] << 24)); }

        public ulong U64(long o) => U32(o) | ((ulong)U32(o + 4) << 32);

        public void WriteU16(long o, ushort v) { Require(o, 2, "field"); _b[o] = (byte)v; _b[o + 1] = (byte)(v >> 8); }

        public string CString(Section table, uint offset)
        {
            long start = table.Offset + offset;
            long end = start;
            while (end < table.Offset + table.Size && end < _b.Length && _b[end] != 0)
            {
                end++;
            }
            Require(start, end - start, "version name");
            return Encoding.ASCII.GetString(_b, (int)start, (int)(end - start));
        }

        private ModelBuildException Corrupt(string what) =>
            new(DiagnosticCodes.ElfCorrupt, $"malformed ELF: {what}.", _file);
    }
}
