using System.Runtime.InteropServices;

namespace NeuralVision.Native;

/// <summary>
/// Runs our own kernels on libtorch's OpenMP threads, as its own kernels run: through GOMP_parallel of the
/// libgomp that libtorch loaded.
/// </summary>
/// <remarks>
/// After each of its operations libtorch's OpenMP worker keeps spinning on the other core for a while, waiting for
/// the next; a .NET thread put there competes with it, and kernels split with Parallel.For came out slower (the 2×2
/// pool's backward, 1.19 against 1.00 ms) or no faster (LeNet's first convolution, 0.65 against 0.60 ms). Handed
/// to that worker instead, the same convolution's two halves took 0.35 ms. Where libgomp cannot be found
/// (libtorch built with another runtime), the work runs whole on the calling thread.
/// </remarks>
internal static unsafe class OpenMpTeam
{
    sealed class Library(IntPtr parallel, IntPtr threadNumber, IntPtr threadCount)
    {
        public readonly delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void> Parallel =
            (delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void>)parallel;
        public readonly delegate* unmanaged<int> ThreadNumber = (delegate* unmanaged<int>)threadNumber;
        public readonly delegate* unmanaged<int> ThreadCount = (delegate* unmanaged<int>)threadCount;
    }

    static readonly Lazy<Library?> library = new(Load);

    static Library? Load()
    {
        // libtorch's wheel carries its libgomp under a hashed name (libgomp-98b21ff3.so.1) beside libtorch; loading
        // the same file again gives the same library, already loaded, with its thread pool.
        if (TorchNative.EnsureLoaded().LibTorchDirectory is not { } directory || !Directory.Exists(directory)) return null;
        var file = Directory.EnumerateFiles(directory, "libgomp*.so*").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
        if (file is null || !NativeLibrary.TryLoad(file, out var handle)) return null;
        if (!NativeLibrary.TryGetExport(handle, "GOMP_parallel", out var parallel)
            || !NativeLibrary.TryGetExport(handle, "omp_get_thread_num", out var number)
            || !NativeLibrary.TryGetExport(handle, "omp_get_num_threads", out var count)) return null;
        return new Library(parallel, number, count);
    }

    /// <summary>
    /// Calls <paramref name="part"/>(<paramref name="data"/>) on each of <paramref name="threads"/> threads of
    /// libtorch's team (this thread one of them) and returns when all are done; each asks <see cref="Member"/>
    /// which share is its own. <paramref name="part"/> must not throw.
    /// </summary>
    public static void Run(delegate* unmanaged<void*, void> part, void* data, int threads)
    {
        if (threads > 1 && library.Value is { } gomp) gomp.Parallel(part, data, (uint)threads, 0);
        else part(data);
    }

    /// <summary>
    /// How many of libtorch's threads a pass over <paramref name="elements"/> items should take: one per
    /// <paramref name="perThread"/> (below that, waking the team costs more than it saves), at least 1.
    /// </summary>
    public static int ThreadsFor(long elements, long perThread) =>
        (int)Math.Clamp(elements / perThread, 1, TorchSharp.torch.get_num_threads());

    /// <summary>Inside <see cref="Run"/>'s part: this thread's index and the team's size ((0, 1) without a team).</summary>
    public static (int Index, int Count) Member =>
        library.Value is { } gomp ? (gomp.ThreadNumber(), gomp.ThreadCount()) : (0, 1);

    /// <summary>
    /// The share [start, end) of <paramref name="total"/> floats that this member of the team takes in an elementwise
    /// pass: whole vectors of eight, so that only the last share has a scalar tail (as in libtorch's own split).
    /// </summary>
    public static (long Start, long End) VectorShare(long total)
    {
        var (first, end, _) = Share((total + 7) / 8);
        return (first * 8, Math.Min(total, end * 8));
    }

    /// <summary>The share [start, end) of <paramref name="total"/> items that this member of the team takes, and its index.</summary>
    public static (long Start, long End, int Index) Share(long total)
    {
        var (index, count) = Member;
        long size = (total + count - 1) / count;
        return (Math.Min(total, index * size), Math.Min(total, (index + 1) * size), index);
    }
}
