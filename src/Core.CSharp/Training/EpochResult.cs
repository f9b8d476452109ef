using NeuralVision.Data;
using System.Collections.Immutable;

namespace NeuralVision.Training;

/// <summary>
/// What one epoch of a run produced: the mean training loss, the metrics added by evaluation
/// (e.g. <c>val_loss</c>, <c>accuracy</c>), and the state to continue from.
/// </summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch.</param>
/// <param name="Metrics">Named figures added by <see cref="Evaluation"/> and callbacks.</param>
/// <param name="State">The training state after the epoch.</param>
/// <param name="Elapsed">Wall time of the epoch's training steps.</param>
/// <param name="LearningRate">The learning rate used in the epoch's last step.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, ImmutableDictionary<string, double> Metrics, TrainState State, TimeSpan Elapsed, double LearningRate)
{
    /// <summary>A figure by name: <c>loss</c> is the training loss, anything else a metric.</summary>
    public double this[string name] => name == "loss" ? TrainLoss
        : Metrics.TryGetValue(name, out var v) ? v
        : throw new KeyNotFoundException($"epoch {Epoch} has no figure '{name}'; it has loss{string.Concat(Metrics.Keys.Select(k => ", " + k))}. Evaluate first (e.g. Evaluation.On) to add metrics.");

    /// <summary>The same result with the metrics of the model on <paramref name="data"/> and <c>val_loss</c> (the run's loss) added.</summary>
    public EpochResult Evaluated(IEnumerable<Batch> data, params Metric[] metrics) =>
        With(Evaluation.Evaluate(State.Model, data, metrics, State.Loss));

    /// <summary>The same result with more metrics.</summary>
    public EpochResult With(IEnumerable<KeyValuePair<string, double>> more) => this with { Metrics = Metrics.SetItems(more) };

    /// <inheritdoc/>
    public override string ToString() =>
        $"epoch {Epoch}: loss {TrainLoss:F4}" + string.Concat(Metrics.Select(m => $", {m.Key} {m.Value:F4}")) + $" ({Elapsed.TotalSeconds:F1} s)";
}
