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
/// <param name="Model">The model being trained.</param>
/// <param name="Optimizer">The TorchSharp optimiser over the model's trainable parameters.</param>
/// <param name="Loss">The loss.</param>
/// <param name="Epoch">The epoch in progress (from 1), or the last completed between epochs; 0 before the first.</param>
/// <param name="Step">Steps completed over the whole run.</param>
/// <param name="EpochLossSum">Σ loss × batch size over the current epoch.</param>
/// <param name="EpochSamples">Samples seen in the current epoch.</param>
/// <param name="LastLoss">The loss of the last step (NaN before any).</param>
/// <param name="ClipGradNorm">Gradients are rescaled to at most this global L2 norm when set.</param>
/// <param name="StepSchedule">A per-step learning-rate schedule (one-cycle), with its base rate.</param>
public sealed record TrainState(
    Model Model,
    optim.Optimizer Optimizer,
    Loss Loss,
    int Epoch = 0,
    long Step = 0,
    double EpochLossSum = 0,
    long EpochSamples = 0,
    double LastLoss = double.NaN,
    double? ClipGradNorm = null,
    (Optim.Schedule Schedule, double BaseLr)? StepSchedule = null)
{
    /// <summary>The mean loss over the current (or just finished) epoch.</summary>
    public double EpochLoss => EpochSamples == 0 ? double.NaN : EpochLossSum / EpochSamples;

    // Shared by this state and every copy made from it with `with`; a step marks it and gives its result a new one.
    Lease Ownership { get; init; } = new();

    /// <summary>Whether a step has consumed this state (its weights have moved on).</summary>
    public bool IsConsumed => Ownership.ConsumedBy is not null;

    /// <summary>Throws <see cref="ConsumedStateException"/> if a step has consumed this state; <paramref name="use"/> names what was tried.</summary>
    public void EnsureLive(string use)
    {
        if (Ownership.ConsumedBy is { } by) throw new ConsumedStateException(use, Epoch, Step, by);
    }

    /// <summary>The state after a step: this one is consumed and the result, a fresh owner, is the live one.</summary>
    internal TrainState Succeeded(TrainState next, string by)
    {
        Ownership.ConsumedBy = by;
        return next with { Ownership = new Lease() };
    }

    sealed class Lease
    {
        public string? ConsumedBy;
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
