using System.Security.Cryptography;
using System.Text;

namespace NeuralVision;

/// <summary>A saved file whose content does not match its checksum: damaged on disk or in transfer.</summary>
public sealed class DamagedFileException(string path, string detail)
    : IOException($"{path} is damaged: {detail}. Nothing was loaded from it; restore it from a copy or save it again.")
{
    /// <summary>The damaged file.</summary>
    public string Path { get; } = path;
}

/// <summary>
/// Files that carry a SHA-256 of their content, so that a damaged file is refused before anything is read
/// from it, instead of loading flipped bytes as weights. Binary files end with the checksum and a mark;
/// JSON files hold it as their first property, computed over the text with that value zeroed.
/// Written atomically (<see cref="AtomicFile"/>).
/// </summary>
public static class ChecksummedFile
{
    static readonly byte[] Mark = "NVSHA256"u8.ToArray();
    const int HashLength = 32;
    const string JsonKey = "\"sha256\": \"";
    static readonly string ZeroHash = new('0', 2 * HashLength);

    /// <summary>Writes the bytes <paramref name="write"/> produces, followed by their SHA-256 and a mark.</summary>
    public static void WriteBinary(string path, Action<Stream> write) =>
        AtomicFile.Write(path, stream =>
        {
            using var content = new MemoryStream();
            write(content);
            var hash = SHA256.HashData(content.GetBuffer().AsSpan(0, (int)content.Length));
            content.Position = 0;
            content.CopyTo(stream);
            stream.Write(hash);
            stream.Write(Mark);
        });

    /// <summary>The content of a file written by <see cref="WriteBinary"/>, after checking its checksum.</summary>
    /// <exception cref="DamagedFileException">The checksum does not match, or the file was cut short.</exception>
    /// <exception cref="InvalidDataException">The file carries no checksum (not written by <see cref="WriteBinary"/>).</exception>
    public static MemoryStream ReadBinary(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var contentLength = bytes.Length - HashLength - Mark.Length;
        if (contentLength < 0 || !bytes.AsSpan(bytes.Length - Mark.Length).SequenceEqual(Mark))
            throw new InvalidDataException("it carries no NeuralVision checksum (cut short, or saved by an older NeuralVision, before every file carried one)");
        var expected = bytes.AsSpan(contentLength, HashLength);
        if (!SHA256.HashData(bytes.AsSpan(0, contentLength)).AsSpan().SequenceEqual(expected))
            throw new DamagedFileException(path, "its SHA-256 does not match its content");
        return new MemoryStream(bytes, 0, contentLength, writable: false);
    }

    /// <summary>
    /// Writes a JSON object (as text, whose first property must be <c>"sha256": ""</c>) with that property set to the
    /// SHA-256 of the text in which it is 64 zeros.
    /// </summary>
    public static void WriteJson(string path, string json)
    {
        var at = json.IndexOf(JsonKey + "\"", StringComparison.Ordinal);
        if (at < 0) throw new ArgumentException("the JSON must start with an empty \"sha256\" property to fill in", nameof(json));
        var zeroed = json.Insert(at + JsonKey.Length, ZeroHash);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(zeroed)));
        var text = zeroed.Remove(at + JsonKey.Length, ZeroHash.Length).Insert(at + JsonKey.Length, hash);
        AtomicFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The text of a JSON file written by <see cref="WriteJson"/>, after checking its checksum.</summary>
    /// <exception cref="DamagedFileException">The checksum does not match the text.</exception>
    /// <exception cref="InvalidDataException">The file carries no checksum.</exception>
    public static string ReadJson(string path)
    {
        var text = File.ReadAllText(path, Encoding.UTF8);
        var at = text.IndexOf(JsonKey, StringComparison.Ordinal);
        if (at < 0 || text.Length < at + JsonKey.Length + ZeroHash.Length)
            throw new InvalidDataException("it carries no \"sha256\" checksum (not saved by NeuralVision)");
        var stored = text.Substring(at + JsonKey.Length, ZeroHash.Length);
        var zeroed = text.Remove(at + JsonKey.Length, ZeroHash.Length).Insert(at + JsonKey.Length, ZeroHash);
        if (Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(zeroed))) != stored)
            throw new DamagedFileException(path, "its SHA-256 does not match its text");
        return text;
    }
}
