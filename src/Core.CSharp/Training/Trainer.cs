using NeuralVision.Data;
using NeuralVision.Layers;
using NeuralVision.Losses;
using NeuralVision.Optim;

namespace NeuralVision.Training;

/// <summary>What <see cref="Trainer.Fit"/> returns: the trained model and one result per epoch.</summary>
/// <param name="Model">The trained model (with its best weights when early stopping restored them).</param>
/// <param name="History">Every epoch's result, in order.</param>
public sealed record FitResult(Model Model, IReadOnlyList<EpochResult> History)
{
    /// <summary>The last epoch's result.</summary>
    public EpochResult Last => History[^1];
}

/// <summary>
/// The C# front door to training, an immutable builder:
/// <c>Trainer.For(net, input: [1, 28, 28]).Optimiser(new Adam(1e-3)).Loss(Loss.CrossEntropy()).EarlyStopping(3).Fit(train, test, epochs: 20)</c>.
/// Each method returns a new trainer; <see cref="Fit"/> builds the model and runs the same fold as the F# API.
/// </summary>
public sealed record Trainer
{
    // The model to train: built by Fit from a layer value and an input shape, or given built (e.g. pretrained).
    Func<Model> MakeModel { get; init; } = null!;
    Optimiser Rule { get; init; } = new Adam();
    Loss LossFunction { get; init; } = Losses.Loss.CrossEntropy();
    int BatchSize { get; init; } = 64;
    IReadOnlyList<Metric> MetricList { get; init; } = [];
    (string Monitor, int Patience)? Stopping { get; init; }
    string? CheckpointPath { get; init; }
    Schedule? EpochSchedule { get; init; }
    double? Clip { get; init; }
    bool Verbose { get; init; } = true;
    Distributed.Communicator RankSet { get; init; } = Distributed.Communicator.Single;

    /// <summary>A trainer for <paramref name="net"/>, built by <see cref="Fit"/> against samples of shape <paramref name="input"/>.</summary>
    public static Trainer For(Layer net, long[] input) => new() { MakeModel = () => Model.Build(net, new Shape(input)) };

    /// <summary>A trainer for a model already built (e.g. a pretrained one with a new head); Fit trains it in place.</summary>
    public static Trainer For(Model model) => new() { MakeModel = () => model };

    /// <summary>The optimiser (default Adam 1e-3).</summary>
    public Trainer Optimiser(Optimiser optimiser) => this with { Rule = optimiser };
    /// <summary>The loss (default cross-entropy).</summary>
    public Trainer Loss(Loss loss) => this with { LossFunction = loss };
    /// <summary>Samples per step (default 64).</summary>
    public Trainer Batch(int size) => this with { BatchSize = size };
    /// <summary>Metrics evaluated on the validation data after each epoch (val_loss always is).</summary>
    public Trainer Metrics(params Metric[] metrics) => this with { MetricList = metrics };
    /// <summary>Stops after <paramref name="patience"/> epochs without a better <paramref name="monitor"/>; restores the best weights.</summary>
    public Trainer EarlyStopping(int patience, string monitor = "val_loss") => this with { Stopping = (monitor, patience) };
    /// <summary>Saves the whole training state after every epoch to <paramref name="path"/>.</summary>
    public Trainer Checkpoints(string path) => this with { CheckpointPath = path };
    /// <summary>An epoch learning-rate schedule.</summary>
    public Trainer Schedule(Schedule schedule) => this with { EpochSchedule = schedule };
    /// <summary>Clips gradients to a global L2 norm.</summary>
    public Trainer ClipGradients(double maxNorm) => this with { Clip = maxNorm };
    /// <summary>No progress bar or epoch lines.</summary>
    public Trainer Quiet() => this with { Verbose = false };
    /// <summary>
    /// Trains on several ranks under mpirun (<c>Communicator.World()</c>): each takes its share of every batch, the
    /// gradients are averaged; only rank 0 prints and writes checkpoints. The batch size is the total over the ranks.
    /// </summary>
    public Trainer Ranks(Distributed.Communicator ranks) => this with { RankSet = ranks };

    /// <summary>Builds the model (or takes the one given) and trains it for up to <paramref name="epochs"/> epochs.</summary>
    public FitResult Fit(TensorData train, TensorData? validation, int epochs)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "train for at least one epoch");
        if (Stopping is not null && validation is null)
            throw new ArgumentException("early stopping watches validation figures; pass validation data to Fit.");
        var model = MakeModel();
        var state = Train.Start(model, Rule, LossFunction, Clip);
        if (RankSet.IsDistributed) state = state.WithRanks(RankSet);
        var loader = Loader.Create(train, BatchSize);
        var verbose = Verbose && RankSet.IsRoot;
        using var progress = verbose ? new ConsoleProgress() : null;
        IEnumerable<EpochResult> run = Train.Run(state, loader, progress);
        if (validation is not null)
        {
            run = run.Evaluate(() => Evaluation.Batches(validation), MetricList.ToArray());
        }
        if (EpochSchedule is not null) run = run.Schedule(EpochSchedule);
        if (CheckpointPath is not null) run = run.CheckpointEvery(CheckpointPath);
        if (verbose) run = run.Print();
        if (Stopping is var (monitor, patience)) run = run.EarlyStopping(monitor, patience);
        var history = run.Take(epochs).ToList();
        return new FitResult(model, history);
    }
}
