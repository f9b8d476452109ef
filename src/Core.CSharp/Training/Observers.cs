namespace NeuralVision.Training;

/// <summary>Records the loss of every step, for a loss curve.</summary>
public sealed class StepLosses : ITrainingObserver
{
    readonly List<double> losses = [];

    /// <summary>The losses so far, one per step.</summary>
    public IReadOnlyList<double> Losses => losses;

    /// <inheritdoc/>
    public void EpochStarted(int epoch, int? steps) { }
    /// <inheritdoc/>
    public void StepFinished(TrainState state) => losses.Add(state.LastLoss);
    /// <inheritdoc/>
    public void EpochFinished(EpochResult result) { }
}

/// <summary>Observers together.</summary>
public static class Observers
{
    /// <summary>One observer that tells each of <paramref name="observers"/> in turn.</summary>
    public static ITrainingObserver Combine(params ITrainingObserver[] observers) => new All(observers);

    sealed class All(ITrainingObserver[] observers) : ITrainingObserver
    {
        public void EpochStarted(int epoch, int? steps) { foreach (var o in observers) o.EpochStarted(epoch, steps); }
        public void StepFinished(TrainState state) { foreach (var o in observers) o.StepFinished(state); }
        public void EpochFinished(EpochResult result) { foreach (var o in observers) o.EpochFinished(result); }
    }
}
