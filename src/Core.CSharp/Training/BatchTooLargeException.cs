namespace NeuralVision.Training;

/// <summary>libtorch could not allocate the memory a batch needs; the message suggests a smaller batch.</summary>
public sealed class BatchTooLargeException(long batchSize, string detail, Exception inner)
    : Exception($"a batch of {batchSize} samples needs more memory than this machine can give ({detail}); use a smaller batch size (e.g. {Math.Max(1, batchSize / 4)}) or a smaller input.", inner)
{
    /// <summary>The batch size that did not fit.</summary>
    public long BatchSize { get; } = batchSize;

    /// <summary>Whether an exception from libtorch is an allocation failure.</summary>
    public static bool IsAllocationFailure(Exception e) =>
        e is OutOfMemoryException ||
        (e is System.Runtime.InteropServices.ExternalException && (e.Message.Contains("can't allocate memory") || e.Message.Contains("out of memory") || e.Message.Contains("DefaultCPUAllocator")));

    /// <summary>The first line of libtorch's message.</summary>
    public static string FirstLine(Exception e) => e.Message.Split('\n')[0].Trim();
}
