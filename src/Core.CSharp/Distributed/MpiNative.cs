using System.Runtime.InteropServices;

namespace NeuralVision.Distributed;

/// <summary>
/// The few MPI calls data-parallel training needs, bound to Open MPI's <c>libmpi.so.40</c> by P/Invoke.
/// Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>…) are not numbers but the
/// addresses of exported objects (<c>ompi_mpi_comm_world</c>…), so they are looked up in the loaded library.
/// </summary>
/// <remarks>
/// Every call's return code is checked, but Open MPI's default error handler (errors are fatal) aborts the
/// whole job first on a communication failure: that is what stops the other ranks when one dies.
/// </remarks>
internal static unsafe class MpiNative
{
    const string Library = "libmpi.so.40";

    [DllImport(Library)] static extern int MPI_Initialized(out int flag);
    [DllImport(Library)] static extern int MPI_Finalized(out int flag);
    [DllImport(Library)] static extern int MPI_Init(IntPtr argc, IntPtr argv);
    [DllImport(Library)] static extern int MPI_Finalize();
    [DllImport(Library)] static extern int MPI_Comm_rank(IntPtr comm, out int rank);
    [DllImport(Library)] static extern int MPI_Comm_size(IntPtr comm, out int size);
    [DllImport(Library)] static extern int MPI_Allreduce(void* send, void* receive, int count, IntPtr type, IntPtr op, IntPtr comm);
    [DllImport(Library)] static extern int MPI_Bcast(void* buffer, int count, IntPtr type, int root, IntPtr comm);
    [DllImport(Library)] static extern int MPI_Allgather(void* send, int sendCount, IntPtr sendType, void* receive, int receiveCount, IntPtr receiveType, IntPtr comm);
    [DllImport(Library)] static extern int MPI_Barrier(IntPtr comm);
    [DllImport(Library)] static extern int MPI_Abort(IntPtr comm, int code);

    /// <summary>Open MPI's MPI_IN_PLACE: the receive buffer is also the send buffer.</summary>
    static readonly void* InPlace = (void*)1;

    static readonly Lazy<IntPtr> handle = new(() =>
    {
        if (NativeLibrary.TryLoad(Library, out var h)) return h;
        throw new Native.NativeLibraryException(
            $"{Library} (Open MPI) could not be loaded, so this process cannot train with other ranks. " +
            "Install Open MPI (`apt-get install openmpi-bin libopenmpi-dev` on Debian; `./nv train --ranks N` installs it when run as root).");
    });

    static IntPtr Export(string name) => NativeLibrary.GetExport(handle.Value, name);

    public static IntPtr World => Export("ompi_mpi_comm_world");
    public static IntPtr Float => Export("ompi_mpi_float");
    public static IntPtr Double => Export("ompi_mpi_double");
    public static IntPtr Sum => Export("ompi_mpi_op_sum");

    static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error code {code}.");
    }

    /// <summary>Initialises MPI unless this process already has; false when it was finalised (it cannot start again).</summary>
    public static bool EnsureInitialised()
    {
        _ = handle.Value;
        Check(MPI_Finalized(out var finalised), "MPI_Finalized");
        if (finalised != 0) return false;
        Check(MPI_Initialized(out var initialised), "MPI_Initialized");
        if (initialised == 0) Check(MPI_Init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        return true;
    }

    /// <summary>Finalises MPI if it is running (a rank that ends without it makes mpirun abort the job).</summary>
    public static void FinaliseIfRunning()
    {
        if (MPI_Initialized(out var initialised) == 0 && initialised != 0 && MPI_Finalized(out var finalised) == 0 && finalised == 0)
            MPI_Finalize();
    }

    public static (int Rank, int Size) RankAndSize()
    {
        Check(MPI_Comm_rank(World, out var rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(World, out var size), "MPI_Comm_size");
        return (rank, size);
    }

    public static void AllReduceSum(void* data, int count, IntPtr type) =>
        Check(MPI_Allreduce(InPlace, data, count, type, Sum, World), "MPI_Allreduce");

    public static void Broadcast(void* data, int count, IntPtr type, int root) =>
        Check(MPI_Bcast(data, count, type, root, World), "MPI_Bcast");

    public static void AllGather(double* send, int count, double* receive) =>
        Check(MPI_Allgather(send, count, Double, receive, count, Double, World), "MPI_Allgather");

    /// <summary>Ends every rank of the job (mpirun kills the others); used instead of finalising when a rank fails.</summary>
    public static void Abort(int code) => MPI_Abort(World, code);

    public static void Barrier() => Check(MPI_Barrier(World), "MPI_Barrier");
}
