using System.Buffers.Binary;
using System.Text;

namespace NeuralVision.Native;

/// <summary>One entry of an ELF file's <c>.gnu.version_r</c> section: a symbol version the file needs.</summary>
/// <param name="Library">The library the version is needed from (e.g. <c>libstdc++.so.6</c>).</param>
/// <param name="Version">The version name (e.g. <c>GLIBCXX_3.4.32</c>).</param>
/// <param name="Flags">The entry's <c>vna_flags</c>; bit 0x2 (<see cref="ElfFile.VerFlagWeak"/>) makes it optional.</param>
/// <param name="FlagsOffset">File offset of the 16-bit <c>vna_flags</c> field, so a copy can be patched.</param>
public sealed record VersionNeed(string Library, string Version, ushort Flags, long FlagsOffset);

/// <summary>
/// The little of an ELF64 little-endian shared object that the native loader needs: the symbol
/// versions a library requires (<c>.gnu.version_r</c>) and the versions one defines
/// (<c>.gnu.version_d</c>). Read from bytes so that it works on a copy and in tests.
/// </summary>
public sealed class ElfFile
{
    /// <summary>VER_FLG_WEAK: the dynamic loader tolerates a missing weak version.</summary>
    public const ushort VerFlagWeak = 0x2;

    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;

    readonly byte[] bytes;
    readonly string source;
    readonly IReadOnlyList<Section> sections;

    sealed record Section(uint Type, long Offset, long Size, uint Link, uint Info);

    ElfFile(byte[] bytes, string source)
    {
        this.bytes = bytes;
        this.source = source;
        sections = ReadSections();
    }

    /// <summary>Parses the bytes of an ELF file; <paramref name="source"/> names it in errors.</summary>
    public static ElfFile Parse(byte[] bytes, string source)
    {
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new NativeLibraryException($"{source} is not an ELF file (no \\x7fELF magic). Reinstall the package that provides it.");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new NativeLibraryException($"{source} is not a 64-bit little-endian ELF file; only linux-x64 libraries are supported.");
        return new ElfFile(bytes, source);
    }

    /// <summary>Reads and parses an ELF file from disk.</summary>
    public static ElfFile Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Every (library, version) pair of <c>.gnu.version_r</c>, in file order.</summary>
    public IReadOnlyList<VersionNeed> VersionNeeds()
    {
        var result = new List<VersionNeed>();
        foreach (var section in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strings = StringTable(section.Link);
            long entry = section.Offset;
            for (uint i = 0; i < section.Info; i++)
            {
                var count = U16(entry + 2);
                var library = CString(strings, U32(entry + 4));
                long aux = entry + U32(entry + 8);
                for (int j = 0; j < count; j++)
                {
                    result.Add(new VersionNeed(library, CString(strings, U32(aux + 8)), U16(aux + 4), aux + 4));
                    aux += U32(aux + 12);
                }
                var next = U32(entry + 12);
                if (next == 0) break;
                entry += next;
            }
        }
        return result;
    }

    /// <summary>Every version name the file defines (<c>.gnu.version_d</c>), e.g. all GLIBCXX_* of a libstdc++.</summary>
    public IReadOnlySet<string> VersionDefinitions()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var section in sections.Where(s => s.Type == ShtGnuVerdef))
        {
            var strings = StringTable(section.Link);
            long entry = section.Offset;
            for (uint i = 0; i < section.Info; i++)
            {
                // The first auxiliary entry names the version; later ones name its parents.
                long aux = entry + U32(entry + 12);
                result.Add(CString(strings, U32(aux)));
                var next = U32(entry + 16);
                if (next == 0) break;
                entry += next;
            }
        }
        return result;
    }

    IReadOnlyList<Section> ReadSections()
    {
        long headers = (long)U64(0x28);
        int size = U16(0x3A), count = U16(0x3C);
        if (headers <= 0 || size < 64 || headers + (long)size * count > bytes.Length)
            throw Corrupt("its section header table lies outside the file");
        return Enumerable.Range(0, count)
            .Select(i => headers + (long)i * size)
            .Select(h => new Section(U32(h + 4), (long)U64(h + 24), (long)U64(h + 32), U32(h + 40), U32(h + 44)))
            .ToList();
    }

    Section StringTable(uint index) =>
        index < sections.Count ? sections[(int)index] : throw Corrupt($"a version section links to missing section {index}");

    string CString(Section table, uint offset)
    {
        long start = table.Offset + offset;
        Check(start, 1);
        int end = Array.IndexOf(bytes, (byte)0, (int)start);
        if (end < 0) throw Corrupt("a string is not terminated");
        return Encoding.ASCII.GetString(bytes, (int)start, end - (int)start);
    }

    ushort U16(long at) { Check(at, 2); return BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)at)); }
    uint U32(long at) { Check(at, 4); return BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)at)); }
    ulong U64(long at) { Check(at, 8); return BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)at)); }

    void Check(long at, int width)
    {
        if (at < 0 || at + width > bytes.Length) throw Corrupt($"a field at offset {at} lies past the end ({bytes.Length} bytes)");
    }

    NativeLibraryException Corrupt(string what) =>
        new($"{source} is a damaged ELF file: {what}. Delete it and restore the package again (dotnet restore --force).");
}
