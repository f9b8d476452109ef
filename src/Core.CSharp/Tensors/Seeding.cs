using NeuralVision.Native;
using TorchSharp;

namespace NeuralVision.Tensors;

/// <summary>
/// Seeds every random source of a run in one call. The library keeps no seed of its own: each .NET
/// <see cref="Random"/> it needs (shuffling, augmentation) is seeded from libtorch's generator, as
/// PyTorch's DataLoader draws its base seed, so seeding libtorch seeds everything.
/// </summary>
/// <remarks>
/// Bit-identical results on CPU also need a fixed intra-op thread count (float sums are split
/// differently across threads), so the seed call pins it. TorchSharp's
/// use_deterministic_algorithms throws, which is why this does not call it.
/// </remarks>
public static class Seeding
{
    /// <summary>
    /// The intra-op thread count a seeded run uses unless told otherwise: one per core, shared out among the
    /// ranks mpirun started on this machine (two ranks of two threads each on two cores would fight for them).
    /// </summary>
    public static int DefaultThreads => Math.Max(1, Environment.ProcessorCount / RanksOnThisMachine);

    static int RanksOnThisMachine =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out var n) && n > 0 ? n : 1;

    /// <summary>Seeds libtorch (and so the library's random sources) and fixes the thread count.</summary>
    public static void Seed(long value, int? threads = null)
    {
        TorchNative.EnsureLoaded();
        torch.manual_seed(value);
        torch.set_num_threads(threads ?? DefaultThreads);
    }

    /// <summary>A seed for one part of a run (e.g. an epoch's shuffle), mixed from a base seed and an index; stable across processes.</summary>
    public static long Mix(long baseSeed, long index)
    {
        unchecked
        {
            // splitmix64's finaliser: nearby inputs give unrelated outputs.
            ulong z = (ulong)baseSeed + 0x9E3779B97F4A7C15UL * (ulong)(index + 1);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (long)((z ^ (z >> 31)) >> 1);
        }
    }

    /// <summary>A new <see cref="Random"/> seeded by one draw from libtorch's generator.</summary>
    public static Random NewRandom()
    {
        TorchNative.EnsureLoaded();
        using var draw = torch.randint(int.MaxValue, [1], dtype: torch.int64);
        return new Random((int)draw.item<long>());
    }
}
