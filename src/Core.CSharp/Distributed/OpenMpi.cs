using System.Diagnostics;

namespace NeuralVision.Distributed;

/// <summary>
/// Open MPI's launcher, mpirun, as NeuralVision starts it: installed from Debian when missing, allowed to
/// run as root (the project sets that, not the user), one rank per process with the machine's cores shared
/// out among the ranks on it (see <see cref="Tensors.Seeding.DefaultThreads"/>).
/// </summary>
public static class OpenMpi
{
    /// <summary>The Debian packages that bring mpirun and libmpi.</summary>
    public static IReadOnlyList<string> Packages { get; } = ["openmpi-bin", "libopenmpi-dev"];

    /// <summary>The path of mpirun, installing Open MPI first when it (or libmpi) is missing.</summary>
    public static string Ensure()
    {
        if (Find() is { } found && System.Runtime.InteropServices.NativeLibrary.TryLoad("libmpi.so.40", out _)) return found;
        Native.DebianPackages.Install(Packages, "training on several ranks (mpirun)");
        return Find() ?? throw new Native.NativeLibraryException("Open MPI was installed but mpirun is not on PATH; add /usr/bin to PATH.");
    }

    static string? Find() =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);

    /// <summary>
    /// The environment mpirun needs from us: as root, Open MPI refuses to start unless both of its allow-root
    /// variables are set (the same as <c>--allow-run-as-root</c>).
    /// </summary>
    public static IReadOnlyDictionary<string, string> RootEnvironment { get; } = new Dictionary<string, string>
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1",
        ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
    };

    /// <summary>
    /// mpirun starting <paramref name="ranks"/> copies of <paramref name="program"/> with <paramref name="arguments"/>:
    /// on this machine (more ranks than cores allowed, no pinning to cores, since each rank sets its own thread
    /// count), or on the machines of an Open MPI <paramref name="hostFile"/>.
    /// </summary>
    public static ProcessStartInfo Command(int ranks, string program, IEnumerable<string> arguments, string? hostFile = null)
    {
        if (ranks < 1) throw new ArgumentOutOfRangeException(nameof(ranks), ranks, "at least one rank");
        string[] where = hostFile is null ? ["--oversubscribe"] : ["--hostfile", hostFile];
        return Mpirun(["-np", ranks.ToString(), "--bind-to", "none", .. where, program, .. arguments]);
    }

    /// <summary>mpirun with the arguments given, as they are (<c>./nv mpirun …</c>), with <see cref="RootEnvironment"/>.</summary>
    public static ProcessStartInfo Mpirun(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(Ensure()) { UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in RootEnvironment) info.Environment[k] = v;
        return info;
    }
}
