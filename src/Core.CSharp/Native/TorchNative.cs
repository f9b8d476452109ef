using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace NeuralVision.Native;

/// <summary>What <see cref="TorchNative.EnsureLoaded"/> did, for diagnostics (<c>nv info</c>).</summary>
/// <param name="Original">The libLibTorchSharp file of the TorchSharp package; null where TorchSharp loads it itself.</param>
/// <param name="Bridge">The libLibTorchSharp file that was loaded (the original or a patched copy); null where TorchSharp loads it itself.</param>
/// <param name="LibTorchDirectory">Where libtorch.so was found; null where TorchSharp loads it itself.</param>
/// <param name="WeakenedVersions">Symbol versions made weak in the copy; empty when the original loads as it is.</param>
/// <param name="Allocator">How malloc was set up for tensor work (<see cref="NativeAllocator"/>).</param>
/// <param name="Reproducibility">The reproducible mode MKL runs in (<see cref="ReproducibleMath"/>).</param>
public sealed record NativeLoadReport(string? Original, string? Bridge, string? LibTorchDirectory, IReadOnlyList<string> WeakenedVersions, string Allocator, string Reproducibility);

/// <summary>
/// Loads libtorch and TorchSharp's native bridge (libLibTorchSharp) before TorchSharp needs them, on
/// every way NeuralVision is used: a built program (natives under runtimes/linux-x64/native), tests,
/// and F# scripts (TorchSharp.dll referenced from a build folder or from the NuGet cache).
/// </summary>
/// <remarks>
/// On Linux the bridge is loaded by full path and handed to TorchSharp through a DllImport resolver.
/// Where the host's libstdc++ lacks a version the bridge names (see <see cref="SymbolVersionPatch"/>),
/// a patched copy is written once to a cache folder and loaded instead; the NuGet cache and the build
/// output are never modified. On Windows and macOS TorchSharp's own loading is used unchanged.
/// </remarks>
public static class TorchNative
{
    const string BridgeFile = "libLibTorchSharp.so";
    const string BridgeImportName = "LibTorchSharp";
    const string NativeSubfolder = "runtimes/linux-x64/native";

    // The native libraries can be loaded once per process, so the outcome is process-wide by nature.
    static readonly Lazy<NativeLoadReport> load = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads the natives if not yet done; safe to call any number of times from any thread.</summary>
    public static NativeLoadReport EnsureLoaded() => load.Value;

    static NativeLoadReport Load()
    {
        var allocator = NativeAllocator.Tune();
        var reproducibility = ReproducibleMath.Apply();
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            return new NativeLoadReport(null, null, null, [], allocator, reproducibility);

        var torchSharp = typeof(TorchSharp.torch).Assembly;
        var searched = CandidateDirectories(torchSharp).ToList();
        var bridgeDir = searched.FirstOrDefault(d => File.Exists(Path.Combine(d, BridgeFile)))
            ?? throw new NativeLibraryException(
                $"{BridgeFile} (TorchSharp's native bridge) was not found. Looked in:\n  {string.Join("\n  ", searched)}\n" +
                "Build the project first (./nv build), or reference the TorchSharp package.");
        var libTorchDir = searched.FirstOrDefault(d => File.Exists(Path.Combine(d, "libtorch.so")))
            ?? throw new NativeLibraryException(
                $"libtorch.so was not found. Looked in:\n  {string.Join("\n  ", searched)}\n" +
                "Reference the libtorch-cpu-linux-x64 package (NeuralVision.Core does), then build again.");

        var original = Path.Combine(bridgeDir, BridgeFile);
        var originalBytes = File.ReadAllBytes(original);
        var needs = ElfFile.Parse(originalBytes, original).VersionNeeds();
        var plan = SymbolVersionPatch.Decide(needs, "libstdc++.so.6", HostLibStdCxx.Versions());

        var (bridge, weakened) = plan switch
        {
            SymbolVersionPatch.Plan.LoadAsIs => (original, Array.Empty<string>()),
            SymbolVersionPatch.Plan.Weaken w => (WritePatchedCopy(originalBytes, w.Needs), w.Needs.Select(n => n.Version).ToArray()),
            SymbolVersionPatch.Plan.Unsupported u => throw new NativeLibraryException(
                $"{original} needs libstdc++ versions this host lacks: {string.Join(", ", u.MissingVersions)}. " +
                "Install a newer libstdc++6 (GCC 13 or later)."),
            _ => throw new InvalidOperationException("unreachable"),
        };

        // libtorch first, by full path: the bridge then finds libtorch.so, libc10.so and libtorch_cpu.so
        // by soname among the loaded libraries, wherever the bridge itself lies.
        Preload(Path.Combine(libTorchDir, "libtorch.so"));
        var cuda = Path.Combine(libTorchDir, "libtorch_cuda.so");
        if (File.Exists(cuda)) Preload(cuda);
        var handle = Preload(bridge);
        NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) => name == BridgeImportName ? handle : IntPtr.Zero);
        // Before any caller can reach MKL's vector math from several threads at once (see VectorMathWarmUp).
        VectorMathWarmUp.Run();
        return new NativeLoadReport(original, bridge, libTorchDir, weakened, allocator, reproducibility);
    }

    static IntPtr Preload(string path)
    {
        try { return NativeLibrary.Load(path); }
        catch (DllNotFoundException e)
        {
            throw new NativeLibraryException($"Could not load {path}: {e.Message}", e);
        }
    }

    /// <summary>Where a build, a test host or an F# script keeps TorchSharp's and libtorch's natives.</summary>
    static IEnumerable<string> CandidateDirectories(Assembly torchSharp)
    {
        var fromHost = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var torchSharpDir = Path.GetDirectoryName(torchSharp.Location) ?? AppContext.BaseDirectory;
        var local = new[]
        {
            AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, NativeSubfolder),
            torchSharpDir, Path.Combine(torchSharpDir, NativeSubfolder),
        };
        return fromHost.Concat(local).Concat(NuGetCacheDirectories(torchSharpDir))
            .Select(Path.GetFullPath)
            .Distinct()
            .Where(Directory.Exists);
    }

    /// <summary>
    /// TorchSharp.dll referenced straight from the NuGet cache (…/torchsharp/0.107.0/lib/net8.0):
    /// the bridge is in that package, libtorch in the libtorch-cpu-linux-x64 package beside it.
    /// </summary>
    static IEnumerable<string> NuGetCacheDirectories(string torchSharpDir)
    {
        var packageHome = Path.GetFullPath(Path.Combine(torchSharpDir, "..", ".."));
        var packagesRoot = Path.GetFullPath(Path.Combine(packageHome, "..", ".."));
        if (!Path.GetFileName(Path.GetDirectoryName(packageHome) ?? "").Equals("torchsharp", StringComparison.OrdinalIgnoreCase))
            return [];
        var libTorch = Directory.Exists(packagesRoot)
            ? Directory.EnumerateDirectories(packagesRoot, "libtorch-*-linux-x64")
                .SelectMany(Directory.EnumerateDirectories)
                .Select(version => Path.Combine(version, NativeSubfolder))
            : [];
        return libTorch.Prepend(Path.Combine(packageHome, NativeSubfolder));
    }

    /// <summary>
    /// Writes the patched bridge once per distinct original (named by its hash) into the user's cache,
    /// atomically, so concurrent processes and interrupted writes never leave a half-written library.
    /// </summary>
    static string WritePatchedCopy(byte[] original, IReadOnlyList<VersionNeed> needs)
    {
        var hash = Convert.ToHexString(SHA256.HashData(original))[..16].ToLowerInvariant();
        var patched = SymbolVersionPatch.Apply(original, needs);
        foreach (var root in CacheRoots())
        {
            var dir = Path.Combine(root, hash);
            var target = Path.Combine(dir, BridgeFile);
            try
            {
                if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(patched)) return target;
                AtomicFile.Write(target, stream => stream.Write(patched));
                return target;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // an unwritable cache: try the next root
            }
        }
        throw new NativeLibraryException(
            $"Could not write the patched {BridgeFile} to any of: {string.Join(", ", CacheRoots())}. " +
            "Set NV_NATIVE_CACHE to a writable folder.");
    }

    /// <summary>$NV_NATIVE_CACHE, else $XDG_CACHE_HOME/neuralvision/native, else ~/.cache/neuralvision/native; then the temp folder.</summary>
    public static IEnumerable<string> CacheRoots()
    {
        var explicitRoot = Environment.GetEnvironmentVariable("NV_NATIVE_CACHE");
        if (!string.IsNullOrEmpty(explicitRoot)) yield return explicitRoot;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var cache = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(home, ".cache");
        yield return Path.Combine(cache, "neuralvision", "native");
        yield return Path.Combine(Path.GetTempPath(), $"neuralvision-native-{Environment.UserName}");
    }
}
