using NeuralVision.Layers;
using NeuralVision.Losses;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>
/// The state the training fold threads through its steps. The record itself is immutable; it refers to
/// the model and the optimiser, whose native tensors the steps update in place. Only these and plain
/// numbers survive a step: every tensor a step makes is freed when it ends.
/// </summary>
/// <remarks>
/// Because a step changes the weights in place, it consumes the state it is given (as JAX's donated
/// buffers): the state a step returns is the only live one, and stepping, running or saving a consumed
/// state (or a copy made from it with <c>with</c>) throws <see cref="ConsumedStateException"/>.
/// </remarks>
public sealed record TrainState
{
    internal TrainState(Model model, optim.Optimizer updater, Loss loss)
    {
        Model = model;
        Updater = updater;
        Loss = loss;
    }

    /// <summary>The model being trained.</summary>
    public Model Model
    {
        get;
        init { field = value; Manual = ManualBackward.For(value); }
    }
    /// <summary>TorchSharp's optimiser over the trainable parameters: the per-weight state and the in-place update.</summary>
    internal optim.Optimizer Updater { get; }
    /// <summary>The loss.</summary>
    public Loss Loss { get; init; }
    /// <summary>The epoch in progress (from 1), or the last completed between epochs; 0 before the first.</summary>
    public int Epoch { get; init; }
    /// <summary>Steps completed over the whole run.</summary>
    public long Step { get; init; }
    /// <summary>Σ loss × batch size over the current epoch.</summary>
    public double EpochLossSum { get; init; }
    /// <summary>Samples seen in the current epoch.</summary>
    public long EpochSamples { get; init; }
    /// <summary>The loss of the last step (NaN before any).</summary>
    public double LastLoss { get; init; } = double.NaN;
    /// <summary>The process's allocation count at the training loop's last young collection (<see cref="GarbageBound"/>).</summary>
    internal long AllocationMark { get; init; } = GarbageBound.Mark();
    /// <summary>Gradients are rescaled to at most this global L2 norm when set.</summary>
    public double? ClipGradNorm { get; init; }
    /// <summary>The ranks training this model together (data parallel over MPI), or a single process.</summary>
    public Distributed.Communicator Ranks { get; private init; } = Distributed.Communicator.Single;

    /// <summary>
    /// This state trained by several ranks together (<see cref="Distributed.Communicator.World"/> under mpirun): every
    /// rank takes rank 0's weights now, then trains on its share of each batch and averages its gradients with the
    /// others after every backward pass (<see cref="DataParallel"/>). The ranks must have built the same
    /// model, which is checked here, before anything could hang.
    /// </summary>
    public TrainState WithRanks(Distributed.Communicator ranks)
    {
        EnsureLive("train it on several ranks");
        DataParallel.Join(Model, ranks);
        return this with { Ranks = ranks };
    }
    /// <summary>
    /// Whether every step records and replays autograd's graph of the whole model. Off (the default), a plain
    /// pipeline (convolutions, ReLUs, 2×2 max pools, flatten, linear layers) trains on its backward pass written out
    /// layer by layer, with the same gradients and less overhead (<see cref="ManualBackward"/>). Turn it on with
    /// <see cref="WithAutograd"/> where module hooks must run: that pass does not call them.
    /// </summary>
    public bool Autograd { get; private init; }

    /// <summary>This state with every step through autograd's graph of the whole model (<see cref="Autograd"/>), or not.</summary>
    public TrainState WithAutograd(bool autograd = true)
    {
        EnsureLive("change how it steps");
        return this with { Autograd = autograd };
    }

    /// <summary>Where the written-out pass notes each of its layers' time (<see cref="Training.LayerTimer"/>), or null.</summary>
    public LayerTimer? LayerTimer { get; private init; }

    /// <summary>
    /// This state with each step's written-out pass timed layer by layer into <paramref name="timer"/> (null: not
    /// timed). Steps through autograd (<see cref="Autograd"/>, or a model that is not a plain pipeline) note nothing:
    /// time those with the layers' module hooks.
    /// </summary>
    public TrainState WithLayerTimer(LayerTimer? timer)
    {
        EnsureLive("time its steps");
        return this with { LayerTimer = timer };
    }

    /// <summary>The model's passes written out, or null where it is not such a pipeline.</summary>
    internal ManualBackward? Manual { get; private init; }
    /// <summary>A per-step learning-rate schedule (one-cycle), with its base rate.</summary>
    public (Optim.Schedule Schedule, double BaseLr)? StepSchedule { get; init; }

    /// <summary>The learning rate the next step uses (of the first parameter group).</summary>
    public double LearningRate => Updater.ParamGroups.First().LearningRate;

    /// <summary>The learning rate of each parameter group, in order.</summary>
    public IReadOnlyList<double> LearningRates => Updater.ParamGroups.Select(g => g.LearningRate).ToList();

    /// <summary>The mean loss over the current (or just finished) epoch.</summary>
    public double EpochLoss => EpochSamples == 0 ? double.NaN : EpochLossSum / EpochSamples;

    // Shared by this state and every copy made from it with `with`; a step marks it and gives its result a new one.
    internal Lease Ownership { get; init; } = new();

    /// <summary>Whether a step has consumed this state (its weights have moved on).</summary>
    public bool IsConsumed => Ownership.ConsumedBy is not null;

    /// <summary>Throws <see cref="ConsumedStateException"/> if a step has consumed this state; <paramref name="use"/> names what was tried.</summary>
    public void EnsureLive(string use)
    {
        if (Ownership.ConsumedBy is var (epoch, step))
            throw new ConsumedStateException(use, Epoch, Step, $"step {step} (epoch {epoch})");
    }

    /// <summary>Marks this state consumed by the step that follows it and returns the lease for that step's result.</summary>
    internal Lease HandOver()
    {
        Ownership.ConsumedBy = (Math.Max(1, Epoch), Step + 1);
        return new Lease();
    }

    /// <summary>Who owns the weights: live until a step consumes it (the epoch and step that did are kept for the message).</summary>
    internal sealed class Lease
    {
        public (int Epoch, long Step)? ConsumedBy;
    }
}

/// <summary>A training state that a step has consumed was used again (stepped, run, or saved).</summary>
public sealed class ConsumedStateException(string use, int epoch, long step, string consumedBy)
    : InvalidOperationException(
        $"cannot {use}: this training state (epoch {epoch}, {step} steps) was consumed by {consumedBy}, which changed the weights in place. " +
        "Use the state that step returned (a run's latest result), or start again from Train.Start or a checkpoint (Checkpoint.Load). " +
        "A run is a one-shot sequence: enumerating it a second time is refused, because its start state is spent.")
{
}

/// <summary>The loss became NaN or infinite; training stopped before the bad step changed any weight.</summary>
public sealed class TrainingDivergedException(int epoch, long step, double loss, double lastFiniteLoss)
    : Exception($"training diverged at epoch {epoch}, step {step}: the loss is {loss} (the last finite loss was {lastFiniteLoss:G6}). " +
                "The weights are those before this step and the last checkpoint is kept; lower the learning rate, clip gradients, or check the data for NaNs.")
{
    /// <summary>The epoch (1-based) in which the loss went bad.</summary>
    public int Epoch { get; } = epoch;
    /// <summary>The step (1-based over the run) whose loss went bad.</summary>
    public long Step { get; } = step;
    /// <summary>The last finite loss before it.</summary>
    public double LastFiniteLoss { get; } = lastFiniteLoss;
}
