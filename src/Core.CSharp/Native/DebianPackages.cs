using System.Diagnostics;

namespace NeuralVision.Native;

/// <summary>
/// Installs Debian packages a feature needs when they are missing (Open MPI for training on several ranks,
/// Chromium for the page tests), as the project provisions its data: without asking, when run as root.
/// </summary>
public static class DebianPackages
{
    /// <summary>
    /// Installs <paramref name="packages"/> with apt-get (refreshing the package lists once if the first
    /// attempt fails, as on a fresh machine); throws <see cref="NativeLibraryException"/> saying what
    /// <paramref name="purpose"/> needs and how to install it by hand when that is not possible.
    /// </summary>
    public static void Install(IReadOnlyList<string> packages, string purpose)
    {
        var list = string.Join(" ", packages);
        string Fail(string why) => $"{purpose} needs the Debian package(s) {list}, which could not be installed: {why}. Install them (`sudo apt-get install {list}`) and try again.";
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/apt-get"))
            throw new NativeLibraryException(Fail("this is not a Debian-like system with apt-get"));
        if (Environment.UserName != "root")
            throw new NativeLibraryException(Fail("installing them needs root"));
        string[] install = ["install", "-y", "-q", "--no-install-recommends", .. packages];
        var (code, error) = AptGet(install);
        if (code == 0) return;
        AptGet(["update", "-q"]);
        (code, var again) = AptGet(install);
        if (code != 0) throw new NativeLibraryException(Fail($"apt-get said: {Last(error)} / {Last(again)}"));
    }

    static (int Code, string Error) AptGet(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("apt-get") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Another install (a test's, the user's) may hold dpkg's lock: wait for it rather than fail at once.
        foreach (var a in (string[])["-o", "DPkg::Lock::Timeout=600", .. arguments]) info.ArgumentList.Add(a);
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, error.Result + output.Result);
    }

    static string Last(string text) => text.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";
}
