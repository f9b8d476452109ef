namespace NeuralVision.Native;

/// <summary>
/// Makes a library load on a host whose libstdc++ is older than the one it was linked against,
/// by marking version requirements that nothing actually binds to as weak (VER_FLG_WEAK).
/// </summary>
/// <remarks>
/// TorchSharp 0.107.0's libLibTorchSharp.so was built with GCC 13 and names GLIBCXX_3.4.32, which
/// Debian 12's libstdc++ (GCC 12) lacks. The only reference to that version is a <c>.globl</c> of
/// <c>std::ios_base_library_init</c> with no relocation against it, so a weak requirement is exactly
/// as correct and the library then loads. Only versions known to be unbound in that way are ever
/// weakened: anything else missing must fail loudly, not at the first call.
/// </remarks>
public static class SymbolVersionPatch
{
    /// <summary>Version requirements known to have no symbol bound to them in the libraries we load.</summary>
    public static readonly IReadOnlySet<string> WeakenableVersions = new HashSet<string>(StringComparer.Ordinal) { "GLIBCXX_3.4.32" };

    /// <summary>The outcome of comparing a library's needs with what the host provides.</summary>
    public abstract record Plan
    {
        private Plan() { }
        /// <summary>The host has every version the library needs: load it as it is.</summary>
        public sealed record LoadAsIs : Plan;
        /// <summary>Load a copy in which these requirements are made weak.</summary>
        public sealed record Weaken(IReadOnlyList<VersionNeed> Needs) : Plan;
        /// <summary>The host lacks versions that cannot safely be weakened.</summary>
        public sealed record Unsupported(IReadOnlyList<string> MissingVersions) : Plan;
    }

    /// <summary>
    /// Decides what to do for a library with <paramref name="needs"/> on a host whose libstdc++
    /// defines <paramref name="hostVersions"/>. Pure: no file is read or written.
    /// </summary>
    public static Plan Decide(IEnumerable<VersionNeed> needs, string libraryName, IReadOnlySet<string> hostVersions)
    {
        var missing = needs
            .Where(n => n.Library == libraryName && (n.Flags & ElfFile.VerFlagWeak) == 0 && !hostVersions.Contains(n.Version))
            .ToList();
        if (missing.Count == 0) return new Plan.LoadAsIs();
        var unsafeToWeaken = missing.Where(n => !WeakenableVersions.Contains(n.Version)).Select(n => n.Version).ToList();
        return unsafeToWeaken.Count > 0 ? new Plan.Unsupported(unsafeToWeaken) : new Plan.Weaken(missing);
    }

    /// <summary>Returns a copy of <paramref name="library"/> with the flags of <paramref name="needs"/> made weak; the input is not changed.</summary>
    public static byte[] Apply(ReadOnlySpan<byte> library, IEnumerable<VersionNeed> needs)
    {
        var copy = library.ToArray();
        foreach (var need in needs)
        {
            var flags = (ushort)(need.Flags | ElfFile.VerFlagWeak);
            copy[need.FlagsOffset] = (byte)(flags & 0xff);
            copy[need.FlagsOffset + 1] = (byte)(flags >> 8);
        }
        return copy;
    }
}
