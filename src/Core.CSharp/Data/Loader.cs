using NeuralVision.Tensors;
using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>
/// Splits data into batches, shuffled per epoch. The order of epoch e depends only on the loader's
/// seed and e (its own generator, not libtorch's global one), so a run resumed at epoch e sees the
/// batches an uninterrupted run would have seen.
/// </summary>
/// <param name="Data">The samples.</param>
/// <param name="BatchSize">Samples per batch.</param>
/// <param name="Shuffle">Whether each epoch visits the samples in a new random order.</param>
/// <param name="Seed">The base seed of the shuffling.</param>
/// <param name="DropLast">Whether to leave out a last, smaller batch.</param>
public sealed record Loader(TensorData Data, int BatchSize, bool Shuffle, long Seed, bool DropLast = false)
{
    /// <summary>Augmentation applied to every batch (seeded by epoch and batch), or null.</summary>
    public Augmenter? Augment { get; init; }

    /// <summary>How many batches a background thread prepares ahead of the training step (0: none).</summary>
    public int Prefetch { get; init; }

    /// <summary>
    /// The sample order of each epoch (1-based), replacing the loader's own shuffle when set: to replay
    /// an order drawn elsewhere, e.g. <see cref="NumPyRandomState.PermutationPerEpoch"/> for a NumPy loop.
    /// </summary>
    public Func<int, long[]>? Order { get; init; }

    /// <summary>The same loader visiting the samples in <paramref name="order"/>'s order each epoch.</summary>
    public Loader WithOrder(Func<int, long[]> order) => this with { Order = order };

    /// <summary>This process's rank among <see cref="Ranks"/> sharing every batch (0 of 1: the whole batch).</summary>
    public int Rank { get; init; }

    /// <summary>How many ranks share every batch: each takes every <see cref="Ranks"/>-th sample of it, from its <see cref="Rank"/> on.</summary>
    public int Ranks { get; init; } = 1;

    /// <summary>
    /// The same loader for one rank of data-parallel training: every rank draws the same permutation each
    /// epoch and takes its own disjoint share of every batch, <see cref="BatchSize"/> / ranks samples (the
    /// batch size stays the total over the ranks, so the steps are those of one process on the whole batch).
    /// The last (size mod ranks) samples of each epoch's order are left out, so all ranks take the same number of steps.
    /// </summary>
    public Loader Shard(Distributed.Communicator ranks)
    {
        if (BatchSize % ranks.Size != 0)
            throw new ArgumentException($"a batch of {BatchSize} cannot be shared evenly by {ranks.Size} ranks; choose a batch size divisible by {ranks.Size} (it is the total over all ranks).");
        if (Data.Count < ranks.Size)
            throw new ArgumentException($"{Data.Count} samples cannot be shared by {ranks.Size} ranks.");
        return this with { Rank = ranks.Rank, Ranks = ranks.Size };
    }

    /// <summary>The same loader with augmentation.</summary>
    public Loader WithAugmentation(Augmenter augmenter) => this with { Augment = augmenter };

    /// <summary>The same loader preparing <paramref name="batches"/> batches ahead on a background thread.</summary>
    public Loader WithPrefetch(int batches = 2) => this with { Prefetch = batches };

    /// <summary>
    /// A loader; when it shuffles, its seed is drawn from libtorch's generator, so <see cref="Seeding.Seed"/>
    /// fixes it. One that keeps the data's order draws nothing (<see cref="InOrder"/>).
    /// </summary>
    public static Loader Create(TensorData data, int batchSize, bool shuffle = true, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "a batch holds at least one sample");
        return new Loader(data.Checked(), batchSize, shuffle, shuffle ? Seeding.NewRandom().NextInt64() : 0, dropLast);
    }

    /// <summary>Batches in the data's order: no shuffle, and no random number drawn to make the loader.</summary>
    public static Loader InOrder(TensorData data, int batchSize) => Create(data, batchSize, shuffle: false);

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => (int)(DropLast ? Used / BatchSize : (Used + BatchSize - 1) / BatchSize);

    // The samples an epoch visits: all of them, less the remainder that would give the ranks unequal shares.
    long Used => Data.Count - Data.Count % Ranks;

    /// <summary>The batches of epoch <paramref name="epoch"/> (1-based), created lazily; the training step owns and frees them.</summary>
    public IEnumerable<Batch> Epoch(int epoch) => Prefetch > 0 ? Prefetched(epoch) : Batches(epoch);

    /// <summary>
    /// The epoch's batches made on a background thread, at most <see cref="Prefetch"/> ahead. Tensors made
    /// there belong to no dispose scope; the step that takes a batch frees it, and batches never taken
    /// (the consumer stopped early) are freed here.
    /// </summary>
    IEnumerable<Batch> Prefetched(int epoch)
    {
        using var queue = new System.Collections.Concurrent.BlockingCollection<Batch>(Prefetch);
        using var stop = new CancellationTokenSource();
        var threads = TorchSharp.torch.get_num_threads();
        // A thread of its own (LongRunning), computing on one core. An OpenMP team on this thread beside the
        // training thread's would leave libgomp more threads than cores, and libgomp then throttles its
        // spin-waits for the rest of the process: training fell from 31k to 13k images/s for good.
        var producer = Task.Factory.StartNew(() =>
        {
            TorchSharp.torch.set_num_threads(1);
            try
            {
                foreach (var batch in Batches(epoch))
                    queue.Add(batch with { Inputs = batch.Inputs.DetachFromDisposeScope(), Targets = batch.Targets.DetachFromDisposeScope() }, stop.Token);
            }
            catch (OperationCanceledException) { }
            finally
            {
                queue.CompleteAdding();
                // libtorch keeps the last count set as the default of threads yet to come; give back the caller's.
                TorchSharp.torch.set_num_threads(threads);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable()) yield return batch;
            producer.GetAwaiter().GetResult(); // surface a producer failure
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
            while (queue.TryTake(out var left)) { left.Inputs.Dispose(); left.Targets.Dispose(); }
        }
    }

    static bool IsPermutation(long[] order, long n)
    {
        if (order.Length != n) return false;
        var seen = new bool[n];
        foreach (var i in order)
        {
            if (i < 0 || i >= n || seen[i]) return false;
            seen[i] = true;
        }
        return true;
    }

    IEnumerable<Batch> Batches(int epoch)
    {
        var n = Data.Count;
        Tensor? order = null;
        if (Order is not null)
        {
            var given = Order(epoch);
            if (!IsPermutation(given, n))
                throw new ArgumentException($"the order given for epoch {epoch} is not a permutation of the {n} samples ({given.Length} indices, {given.Distinct().Count()} distinct, range {(given.Length == 0 ? "none" : $"{given.Min()}..{given.Max()}")}); give each of 0..{n - 1} once.");
            order = tensor(given, device: Data.Inputs.device).DetachFromDisposeScope();
        }
        else if (Shuffle)
        {
            using var generator = new Generator((ulong)Seeding.Mix(Seed, epoch));
            // Made lazily, inside whichever dispose scope is open at the first batch: it must outlive that step.
            order = randperm(n, generator: generator, device: Data.Inputs.device).DetachFromDisposeScope();
        }
        else if (Ranks > 1)
            order = arange(n, device: Data.Inputs.device).DetachFromDisposeScope();
        try
        {
            for (int b = 0; b < BatchesPerEpoch; b++)
            {
                long start = (long)b * BatchSize, count = Math.Min(BatchSize, Used - start);
                Batch batch;
                if (order is null)
                    batch = new Batch(Data.Inputs.narrow(0, start, count), Data.Targets.narrow(0, start, count), Owned: true);
                else
                {
                    // This rank's share of the batch: every Ranks-th sample from its rank on (all of it with one rank).
                    using var window = order.narrow(0, start, count);
                    using var index = window.slice(0, Rank, count, Ranks);
                    batch = new Batch(Data.Inputs.index_select(0, index), Data.Targets.index_select(0, index), Owned: true);
                }
                if (Augment is not null)
                {
                    // Each rank's share gets its own random draws.
                    var augmented = Augment.Apply(batch, epoch, b * Ranks + Rank);
                    if (!ReferenceEquals(augmented.Inputs, batch.Inputs)) batch.Inputs.Dispose();
                    if (!ReferenceEquals(augmented.Targets, batch.Targets)) batch.Targets.Dispose();
                    batch = augmented;
                }
                yield return batch;
            }
        }
        finally
        {
            order?.Dispose();
        }
    }
}
