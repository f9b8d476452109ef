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
        using var content = GzipContent.Open(File.OpenRead(path), path);
        return Parse(content, path);
    }

    /// <summary>The bytes of a file, decompressed when it starts with the gzip magic number.</summary>
    public static byte[] ReadMaybeGzipped(string path)
    {
        using var content = GzipContent.Open(File.OpenRead(path), path);
        return content.ReadToEnd();
    }

    /// <summary>Bytes decompressed when they start with the gzip magic number; <paramref name="path"/> names them in errors.</summary>
    public static byte[] Ungzip(byte[] raw, string path)
    {
        using var content = GzipContent.Open(new MemoryStream(raw, writable: false), path);
        return content.ReadToEnd();
    }

    /// <summary>Parses IDX content (plain or gzipped); <paramref name="source"/> names it in errors.</summary>
    public static IdxArray Parse(byte[] bytes, string source)
    {
        using var content = GzipContent.Open(new MemoryStream(bytes, writable: false), source);
        return Parse(content, source);
    }

    // Read from the stream straight into the array the IdxArray keeps: a whole-file buffer sliced afterwards
    // would leave the managed heap a second copy of the data set (47 MB for Fashion-MNIST's training images).
    static IdxArray Parse(GzipContent content, string source)
    {
        Span<byte> magic = stackalloc byte[4];
        var got = content.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataException($"{source}: {got} bytes is too short for an IDX header (4 bytes of magic number at offset 0).");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DataException($"{source}: wrong magic number at offset 0 (0x{magic[0]:x2}{magic[1]:x2}{magic[2]:x2}{magic[3]:x2}); an IDX file starts with two zero bytes.");
        if (magic[2] != UnsignedByte)
            throw new DataException($"{source}: element type 0x{magic[2]:x2} at offset 2 is not supported; only unsigned bytes (0x08) are.");
        int rank = magic[3];
        if (rank == 0) throw new DataException($"{source}: rank 0 at offset 3; an IDX array has at least one dimension.");
        int header = 4 + 4 * rank;
        var sizes = new byte[4 * rank];
        got = content.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false);
        if (got < sizes.Length)
            throw new DataException($"{source}: truncated header: {rank} dimensions need {header} bytes, the file has {4 + got}.");
        var shape = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            int at = 4 * i;
            uint size = (uint)(sizes[at] << 24 | sizes[at + 1] << 16 | sizes[at + 2] << 8 | sizes[at + 3]);
            if (size > int.MaxValue) throw new DataException($"{source}: dimension {i} at offset {4 + at} is {size}, too large.");
            shape[i] = (int)size;
            expected *= size;
            if (expected > int.MaxValue) throw new DataException($"{source}: the dimensions multiply past 2^31 values; not an IDX file this reader can hold.");
        }
        // Allocated for what the header promises only when the content can hold it: a damaged header must not
        // reserve gigabytes for a file of a few bytes.
        var values = content.MostLength - header < expected ? null : new byte[expected];
        long actual = values is null ? 0 : content.ReadAtLeast(values, values.Length, throwOnEndOfStream: false);
        if (values is null || actual < expected)
        {
            actual += Drain(content);
            throw new DataException(
                $"{source}: the header at offset 4 promises {expected} values ({string.Join("×", shape)}), the data from offset {header} holds {actual}; the file is truncated. Delete it and fetch it again.");
        }
        var trailing = Drain(content);
        if (trailing > 0)
            throw new DataException(
                $"{source}: the header at offset 4 promises {expected} values ({string.Join("×", shape)}), the data from offset {header} holds {actual + trailing}; it has trailing bytes.");
        return new IdxArray(shape, values);
    }

    // Reads to the end (checking a gzip trailer on the way); the bytes that were left.
    static long Drain(GzipContent content)
    {
        var before = content.Position;
        content.CopyTo(Stream.Null);
        return content.Position - before;
    }
}
