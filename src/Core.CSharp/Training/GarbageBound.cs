namespace NeuralVision.Training;

/// <summary>
/// Keeps the managed garbage a training loop leaves behind bounded, whatever budget the garbage collector chose.
/// </summary>
/// <remarks>
/// Each step leaves some 26 KB of managed garbage (TorchSharp's tensor handles, autograd records, the step's own
/// values), and the tensors' native memory, the bulk of a step, is freed by dispose scopes, out of the collector's
/// sight. So nothing tells the collector to run, and it runs when its youngest generation's budget is spent: a few
/// MB on most machines, but the budget grows with the processor's last-level cache, and on a virtual machine that
/// reports 300 MB of L3 it did not run once in two epochs of LeNet (1,876 steps, 48 MB of garbage; peak resident
/// memory 634 MiB against 536 with a 16 MB budget). A young collection after every <see cref="Allowance"/> bytes
/// allocated costs well under a millisecond, once per several hundred steps.
/// </remarks>
internal static class GarbageBound
{
    /// <summary>Bytes allocated between two young collections at most.</summary>
    public const long Allowance = 16L << 20;

    /// <summary>The process's allocation count now: the mark a loop starts from.</summary>
    public static long Mark() => GC.GetTotalAllocatedBytes();

    /// <summary>
    /// Collects the youngest generation if more than <see cref="Allowance"/> bytes were allocated since
    /// <paramref name="mark"/>; returns the mark to carry on with.
    /// </summary>
    public static long Collect(long mark)
    {
        var now = GC.GetTotalAllocatedBytes();
        if (now - mark <= Allowance) return mark;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        return now;
    }
}
