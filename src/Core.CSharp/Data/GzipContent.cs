using System.IO.Compression;

namespace NeuralVision.Data;

/// <summary>
/// The content of a file or buffer, read as a stream, decompressed on the way when it starts with the gzip magic
/// number (detected by content, not by name). Readers take the data straight from it into the arrays they keep,
/// so that no copy of the compressed or decompressed file waits on the managed heap for a collection.
/// A damaged stream, or one that ends before its trailer's size (.NET's GZipStream ends quietly on a cut stream),
/// is a <see cref="DataException"/> naming the file.
/// </summary>
internal sealed class GzipContent : Stream
{
    // 10 header bytes and 8 trailer bytes at least.
    const int SmallestGzip = 18;
    // Deflate writes at most 1,032 bytes out per byte in: a trailer promising more is damaged.
    const long DeflateMostExpansion = 1032;

    readonly Stream source;
    readonly Stream content;
    readonly string path;
    readonly uint? promised;
    long delivered;
    bool ended;

    GzipContent(Stream source, Stream content, string path, uint? promised) =>
        (this.source, this.content, this.path, this.promised) = (source, content, path, promised);

    /// <summary>Opens <paramref name="source"/> (seekable: a file or a buffer; disposed with the result); <paramref name="path"/> names it in errors.</summary>
    public static GzipContent Open(Stream source, string path)
    {
        Span<byte> head = stackalloc byte[2];
        var gzipped = source.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1f && head[1] == 0x8b;
        source.Position = 0;
        if (!gzipped) return new GzipContent(source, source, path, null);
        if (source.Length < SmallestGzip)
            throw new DataException($"{path}: the gzip stream is damaged ({source.Length} bytes; a gzip file has at least {SmallestGzip}). Delete the file and fetch it again.");
        // The trailer's last 4 bytes: the content's length mod 2^32.
        Span<byte> trailer = stackalloc byte[4];
        source.Position = source.Length - 4;
        source.ReadExactly(trailer);
        source.Position = 0;
        return new GzipContent(source, new GZipStream(source, CompressionMode.Decompress), path, BitConverter.ToUInt32(trailer));
    }

    /// <summary>The most content there can be: the file's length, or as much as deflate can expand it to.</summary>
    public long MostLength => promised is null ? source.Length : source.Length * DeflateMostExpansion;

    /// <summary>The rest of the content in one array, sized once by the file's length or the gzip trailer (within <see cref="MostLength"/>).</summary>
    public byte[] ReadToEnd()
    {
        using var output = new MemoryStream((int)Math.Min(Math.Min(promised ?? long.MaxValue, MostLength), Array.MaxLength));
        CopyTo(output);
        return output.Length == output.Capacity ? output.GetBuffer() : output.ToArray();
    }

    public override int Read(Span<byte> buffer)
    {
        int read;
        try { read = content.Read(buffer); }
        catch (InvalidDataException e)
        {
            throw new DataException($"{path}: the gzip stream is damaged ({e.Message}). Delete the file and fetch it again.", e);
        }
        delivered += read;
        if (read == 0 && buffer.Length > 0 && !ended)
        {
            ended = true;
            if (promised is uint p && (uint)delivered != p)
                throw new DataException($"{path}: the gzip stream is damaged or truncated: its trailer promises {p} bytes (mod 2^32), it holds {delivered}. Delete the file and fetch it again.");
        }
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => delivered; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!ReferenceEquals(content, source)) content.Dispose();
            source.Dispose();
        }
        base.Dispose(disposing);
    }
}
