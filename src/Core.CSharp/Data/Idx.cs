using System.IO.Compression;

namespace NeuralVision.Data;

/// <summary>An n-dimensional array of unsigned bytes read from an IDX file (MNIST's format).</summary>
/// <param name="Shape">The dimensions, outermost first (e.g. [60000, 28, 28]).</param>
/// <param name="Values">The values in row-major order.</param>
public sealed record IdxArray(int[] Shape, byte[] Values)
{
    /// <summary>The number of items along the first dimension.</summary>
    public int Count => Shape[0];
}

/// <summary>Reads IDX files, plain or gzipped (detected by content, not by name).</summary>
public static class Idx
{
    const byte UnsignedByte = 0x08;

    /// <summary>Reads an IDX file of unsigned bytes; errors name the file and the byte offset.</summary>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: file not found.");
        return Parse(ReadMaybeGzipped(path), path);
    }

    /// <summary>The bytes of a file, decompressed when it starts with the gzip magic number.</summary>
    public static byte[] ReadMaybeGzipped(string path) => Ungzip(File.ReadAllBytes(path), path);

    /// <summary>Bytes decompressed when they start with the gzip magic number; <paramref name="path"/> names them in errors.</summary>
    public static byte[] Ungzip(byte[] raw, string path)
    {
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        // .NET's GZipStream ends quietly on a cut stream, so the trailer's size field (the content
        // length mod 2^32, in the last 4 bytes) is checked by hand: 10 header + 8 trailer bytes at least.
        const int smallestGzip = 18;
        if (raw.Length < smallestGzip)
            throw new DataException($"{path}: the gzip stream is damaged ({raw.Length} bytes; a gzip file has at least {smallestGzip}). Delete the file and fetch it again.");
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            uint promised = BitConverter.ToUInt32(raw, raw.Length - 4);
            // Sized by the trailer, so that the content is decompressed into one array, not grown and copied.
            // The trailer is not trusted further than deflate can expand (at most 1,032 bytes out per byte in):
            // a damaged trailer must not reserve gigabytes for a file of a few bytes.
            const long deflateMostExpansion = 1032;
            using var output = new MemoryStream((int)Math.Min(Math.Min(promised, raw.LongLength * deflateMostExpansion), Array.MaxLength));
            gzip.CopyTo(output);
            if ((uint)output.Length != promised)
                throw new DataException($"{path}: the gzip stream is damaged or truncated: its trailer promises {promised} bytes (mod 2^32), it holds {output.Length}. Delete the file and fetch it again.");
            return output.Length == output.Capacity ? output.GetBuffer() : output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"{path}: the gzip stream is damaged ({e.Message}). Delete the file and fetch it again.", e);
        }
    }

    /// <summary>Parses IDX content; <paramref name="source"/> names it in errors.</summary>
    public static IdxArray Parse(byte[] bytes, string source)
    {
        if (bytes.Length < 4)
            throw new DataException($"{source}: {bytes.Length} bytes is too short for an IDX header (4 bytes of magic number at offset 0).");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new DataException($"{source}: wrong magic number at offset 0 (0x{bytes[0]:x2}{bytes[1]:x2}{bytes[2]:x2}{bytes[3]:x2}); an IDX file starts with two zero bytes.");
        if (bytes[2] != UnsignedByte)
            throw new DataException($"{source}: element type 0x{bytes[2]:x2} at offset 2 is not supported; only unsigned bytes (0x08) are.");
        int rank = bytes[3];
        if (rank == 0) throw new DataException($"{source}: rank 0 at offset 3; an IDX array has at least one dimension.");
        int header = 4 + 4 * rank;
        if (bytes.Length < header)
            throw new DataException($"{source}: truncated header: {rank} dimensions need {header} bytes, the file has {bytes.Length}.");
        var shape = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            int at = 4 + 4 * i;
            uint size = (uint)(bytes[at] << 24 | bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3]);
            if (size > int.MaxValue) throw new DataException($"{source}: dimension {i} at offset {at} is {size}, too large.");
            shape[i] = (int)size;
            expected *= size;
            if (expected > int.MaxValue) throw new DataException($"{source}: the dimensions multiply past 2^31 values; not an IDX file this reader can hold.");
        }
        long actual = bytes.Length - header;
        if (actual != expected)
            throw new DataException(
                $"{source}: the header at offset 4 promises {expected} values ({string.Join("×", shape)}), the data from offset {header} holds {actual}; " +
                (actual < expected ? "the file is truncated. Delete it and fetch it again." : "it has trailing bytes."));
        return new IdxArray(shape, bytes.AsSpan(header).ToArray());
    }
}
