namespace NeuralVision.Data;

/// <summary>One file of a data set and the SHA-256 of its content after gunzip, so that the same data
/// is recognised whichever gzip (upstream's, Debian's) carried it.</summary>
public sealed record DataFile(string Name, string ContentSha256);

/// <summary>Where a data set can come from, in the order they are tried by <see cref="Provisioning"/>.</summary>
/// <param name="Name">The folder name under the data home, e.g. <c>fashion-mnist</c>.</param>
/// <param name="Files">The files that make up the set.</param>
/// <param name="SystemDirectories">Folders where an OS package installs the files.</param>
/// <param name="DebianPackage">A Debian package carrying the files (extracted, not installed), or null.</param>
/// <param name="DebianDirectory">The folder of the files inside that package.</param>
/// <param name="BaseUrls">Canonical download locations; a file's URL is base + name.</param>
public sealed record DataSetSpec(
    string Name,
    IReadOnlyList<DataFile> Files,
    IReadOnlyList<string> SystemDirectories,
    string? DebianPackage,
    string? DebianDirectory,
    IReadOnlyList<string> BaseUrls);

/// <summary>Progress of a provisioning step, for a progress bar.</summary>
/// <param name="Stage">What is happening, e.g. "download train-images-idx3-ubyte.gz".</param>
/// <param name="Done">Bytes done.</param>
/// <param name="Total">Bytes in all, when known.</param>
public sealed record ProvisionProgress(string Stage, long Done, long? Total);
