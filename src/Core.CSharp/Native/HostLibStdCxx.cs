using System.Runtime.InteropServices;

namespace NeuralVision.Native;

/// <summary>Finds the libstdc++ this process uses and the GLIBCXX/CXXABI versions it defines.</summary>
public static class HostLibStdCxx
{
    const string SoName = "libstdc++.so.6";

    /// <summary>
    /// The path of the libstdc++ the dynamic loader gives this process: loaded by its soname, then
    /// looked up in <c>/proc/self/maps</c>, so it is the very file later libraries will bind to.
    /// </summary>
    public static string Locate()
    {
        if (!NativeLibrary.TryLoad(SoName, out _))
            throw new NativeLibraryException($"{SoName} is not installed; libtorch needs it. Install it with: apt-get install libstdc++6");
        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]).StartsWith("libstdc++.so", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .FirstOrDefault();
        return mapped ?? throw new NativeLibraryException($"{SoName} loaded but does not appear in /proc/self/maps; cannot check its versions.");
    }

    /// <summary>The version names the host's libstdc++ defines.</summary>
    public static IReadOnlySet<string> Versions() => ElfFile.Read(Locate()).VersionDefinitions();
}
