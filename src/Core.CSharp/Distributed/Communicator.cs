using System.Security.Cryptography;
using System.Text;
using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Distributed;

/// <summary>
/// The processes (ranks) of one training job and the collective operations between them: MPI's world as
/// started by <c>mpirun -np N</c>, or a single process on its own (<see cref="Single"/>), where every
/// operation is the identity. Data-parallel training needs three: sum a buffer over all ranks in place
/// (gradients), copy a buffer from rank 0 to all (initial weights), and gather a few numbers from each
/// (to check that the ranks agree before training).
/// </summary>
/// <remarks>
/// MPI is process-wide: it starts once (<see cref="World"/>) and ends once (<see cref="Dispose"/>, or
/// when the process exits). A rank that fails must not finalise while the others wait in a collective
/// (that would hang them): it aborts the job instead (<see cref="Abort"/>; a process ending with a
/// non-zero code does so on exit).
/// </remarks>
public sealed unsafe class Communicator : IDisposable
{
    readonly bool mpi;

    // How a rank's process ends, set up once (MPI and signals are process-wide): one that returns normally
    // finalises; one that exits with an error code aborts the job instead, so that no other rank is left waiting in
    // a collective for it; one that mpirun terminates (another rank died) does neither, since its main thread may be
    // inside a collective that will never complete. The signal registration lives as long as the process.
    static readonly Lazy<System.Runtime.InteropServices.PosixSignalRegistration> endOfProcess = new(() =>
    {
        var terminated = false;
        var registration = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => terminated = true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (terminated) return;
            if (Environment.ExitCode == 0) MpiNative.FinaliseIfRunning(); else MpiNative.Abort(Environment.ExitCode);
        };
        return registration;
    });

    Communicator(int rank, int size, bool mpi)
    {
        Rank = rank;
        Size = size;
        this.mpi = mpi;
    }

    /// <summary>This process's rank, 0 … <see cref="Size"/> − 1.</summary>
    public int Rank { get; }
    /// <summary>The number of ranks in the job.</summary>
    public int Size { get; }
    /// <summary>Whether this is rank 0, the one that writes checkpoints, logs and pictures.</summary>
    public bool IsRoot => Rank == 0;
    /// <summary>Whether there are other ranks to talk to.</summary>
    public bool IsDistributed => Size > 1;

    /// <summary>One process on its own: rank 0 of 1, every collective the identity.</summary>
    public static Communicator Single { get; } = new(0, 1, mpi: false);

    /// <summary>Whether this process was started by Open MPI's mpirun (or mpiexec).</summary>
    public static bool LaunchedByMpirun => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 };

    /// <summary>
    /// The ranks of this job: MPI's world when started by mpirun (MPI starts here if it has not), else
    /// <see cref="Single"/>. Safe to call more than once; all calls share the one MPI world.
    /// </summary>
    public static Communicator World()
    {
        if (!LaunchedByMpirun) return Single;
        if (!MpiNative.EnsureInitialised())
            throw new InvalidOperationException("MPI has already been finalised in this process (a Communicator was disposed); it cannot start again. Join the world once and dispose it at the end.");
        _ = endOfProcess.Value;
        var (rank, size) = MpiNative.RankAndSize();
        return new Communicator(rank, size, mpi: true);
    }

    /// <summary>Replaces <paramref name="tensor"/> (contiguous, CPU, float32 or float64) by its sum over all ranks.</summary>
    public void AllReduceSum(Tensor tensor)
    {
        if (!mpi) return;
        MpiNative.AllReduceSum(TensorAddress.Of(tensor), Count(tensor), TypeOf(tensor));
    }

    /// <summary>The element-wise sum of <paramref name="values"/> over all ranks.</summary>
    public double[] AllReduceSum(double[] values)
    {
        var sums = (double[])values.Clone();
        if (!mpi) return sums;
        fixed (double* p = sums) MpiNative.AllReduceSum(p, sums.Length, MpiNative.Double);
        return sums;
    }

    /// <summary>Overwrites <paramref name="tensor"/> (contiguous, CPU, float32 or float64) on every rank with rank <paramref name="root"/>'s.</summary>
    public void Broadcast(Tensor tensor, int root = 0)
    {
        if (!mpi) return;
        MpiNative.Broadcast(TensorAddress.Of(tensor), Count(tensor), TypeOf(tensor), root);
    }

    /// <summary>Every rank's <paramref name="values"/> (the same length on all), indexed by rank.</summary>
    public double[][] AllGather(double[] values)
    {
        if (!mpi) return [(double[])values.Clone()];
        var all = new double[values.Length * Size];
        fixed (double* send = values, receive = all) MpiNative.AllGather(send, values.Length, receive);
        return Enumerable.Range(0, Size).Select(r => all.AsSpan(r * values.Length, values.Length).ToArray()).ToArray();
    }

    /// <summary>
    /// Checks that every rank has the same value of each fact (model, data, settings), before any step
    /// could hang or silently mix different runs; throws <see cref="RanksDisagreeException"/> on every
    /// rank, naming the first fact and rank that differ from rank 0.
    /// </summary>
    public void Agree(IReadOnlyList<(string Fact, double Value)> facts)
    {
        if (!IsDistributed) return;
        var all = AllGather(facts.Select(f => f.Value).ToArray());
        for (int i = 0; i < facts.Count; i++)
            for (int r = 1; r < Size; r++)
                if (!all[r][i].Equals(all[0][i]))
                    throw new RanksDisagreeException(facts[i].Fact, r, all[r][i], all[0][i]);
    }

    /// <summary>A number standing for a text (a settings file, a list of shapes), equal on ranks exactly when the texts are.</summary>
    public static double Fingerprint(string text)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        // 48 bits: a double holds them exactly.
        return BitConverter.ToInt64([.. hash.AsSpan(0, 6), 0, 0]);
    }

    /// <summary>Waits until every rank gets here.</summary>
    public void Barrier()
    {
        if (mpi) MpiNative.Barrier();
    }

    /// <summary>Ends the whole job with <paramref name="code"/>: mpirun stops every other rank.</summary>
    public void Abort(int code)
    {
        if (mpi) MpiNative.Abort(code);
        Environment.Exit(code);
    }

    /// <summary>Finalises MPI (collectively: every rank must get here); nothing for <see cref="Single"/>.</summary>
    public void Dispose()
    {
        if (mpi) MpiNative.FinaliseIfRunning();
    }

    static int Count(Tensor tensor) => checked((int)tensor.numel());

    static IntPtr TypeOf(Tensor tensor) => tensor.dtype switch
    {
        ScalarType.Float32 => MpiNative.Float,
        ScalarType.Float64 => MpiNative.Double,
        var other => throw new ArgumentException($"only float32 and float64 tensors are exchanged between ranks, not {other}."),
    };

    /// <inheritdoc/>
    public override string ToString() => mpi ? $"rank {Rank} of {Size} (MPI)" : "a single process";
}

/// <summary>The ranks of a job do not have the same model, data or settings; caught before training, on every rank.</summary>
public sealed class RanksDisagreeException(string fact, int rank, double value, double rootValue)
    : Exception($"the ranks disagree before training: on rank {rank} {fact} is {Shown(value)}, on rank 0 it is {Shown(rootValue)}. " +
                "Every rank must run the same model on the same data with the same settings (start them with one mpirun command line, from the same files).")
{
    /// <summary>What differs (e.g. "the training set's size").</summary>
    public string Fact { get; } = fact;
    /// <summary>The first rank that differs from rank 0.</summary>
    public int Rank { get; } = rank;

    static string Shown(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15 ? v.ToString("0") : v.ToString("G6");
}
