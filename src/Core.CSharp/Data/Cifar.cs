namespace NeuralVision.Data;

/// <summary>
/// The CIFAR-10 and CIFAR-100 binary formats: records of label byte(s) then 3,072 pixel bytes (1,024
/// red, 1,024 green, 1,024 blue, row-major 32×32). Not available offline here: get
/// <c>cifar-10-binary.tar.gz</c> from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it into
/// <c>$NV_DATA/cifar-10/</c> (so that <c>cifar-10-batches-bin/data_batch_1.bin</c> is inside).
/// </summary>
public static class Cifar
{
    const int Pixels = 3 * 32 * 32;

    /// <summary>The CIFAR-10 class names.</summary>
    public static readonly IReadOnlyList<string> Classes10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Reads one binary batch file; <paramref name="labelBytes"/> is 1 for CIFAR-10, 2 (coarse, fine) for CIFAR-100, of which the fine label is kept.</summary>
    public static ImageSet ReadBatch(string path, IReadOnlyList<string> classes, int labelBytes = 1)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: file not found. {HowToGet}");
        return Parse(File.ReadAllBytes(path), path, classes, labelBytes);
    }

    /// <summary>Parses the bytes of a binary batch; <paramref name="path"/> names them in errors.</summary>
    public static ImageSet Parse(byte[] bytes, string path, IReadOnlyList<string> classes, int labelBytes = 1)
    {
        int record = labelBytes + Pixels;
        if (bytes.Length == 0 || bytes.Length % record != 0)
            throw new DataException($"{path}: {bytes.Length} bytes is not a whole number of {record}-byte records; the file is truncated or not CIFAR binary.");
        int n = bytes.Length / record;
        var pixels = new byte[n * Pixels];
        var labels = new byte[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = bytes[i * record + labelBytes - 1];
            if (labels[i] >= classes.Count)
                throw new DataException($"{path}: record {i} (offset {(long)i * record}) has label {labels[i]}, not below the {classes.Count} classes.");
            Buffer.BlockCopy(bytes, i * record + labelBytes, pixels, i * Pixels, Pixels);
        }
        return new ImageSet(pixels, n, 3, 32, 32, labels, classes);
    }

    /// <summary>CIFAR-10 from <c>$NV_DATA/cifar-10/cifar-10-batches-bin</c> (or <paramref name="directory"/>): 50,000 training and 10,000 test images.</summary>
    public static TrainTest Load10(string? directory = null)
    {
        var dir = directory ?? Path.Combine(Provisioning.DataHome, "cifar-10", "cifar-10-batches-bin");
        if (!Directory.Exists(dir)) throw new DataException($"CIFAR-10 is not in {dir}. {HowToGet}");
        var train = Enumerable.Range(1, 5).Select(i => ReadBatch(Path.Combine(dir, $"data_batch_{i}.bin"), Classes10)).ToList();
        return new TrainTest(Concat(train), ReadBatch(Path.Combine(dir, "test_batch.bin"), Classes10));
    }

    /// <summary>What to do when the data is missing.</summary>
    public const string HowToGet =
        "CIFAR-10 cannot be fetched on this machine: download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html " +
        "and unpack it into $NV_DATA/cifar-10/ (default ~/.cache/neuralvision/data/cifar-10/).";

    /// <summary>Several image sets of the same geometry as one.</summary>
    public static ImageSet Concat(IReadOnlyList<ImageSet> sets) =>
        sets[0] with
        {
            Pixels = sets.SelectMany(s => s.Pixels).ToArray(),
            Labels = sets.SelectMany(s => s.Labels).ToArray(),
            Count = sets.Sum(s => s.Count),
        };
}
