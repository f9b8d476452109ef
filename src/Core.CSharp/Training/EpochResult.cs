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
    /// <summary>
    /// For each metric, whether a larger value is better, as its <see cref="Metric"/> says (losses: no).
    /// Early stopping, plateau and best-checkpoint read the direction here; nothing guesses it from a name.
    /// </summary>
    public ImmutableDictionary<string, bool> HigherIsBetter { get; init; } = ImmutableDictionary<string, bool>.Empty;

    /// <summary>The names of every figure of this epoch: <c>loss</c>, then the metrics by name.</summary>
    public IEnumerable<string> Figures => SortedMetrics.Select(m => m.Key).Prepend("loss");

    // By name: a hash dictionary's order changes from process to process (.NET randomises string hashes).
    IEnumerable<KeyValuePair<string, double>> SortedMetrics => Metrics.OrderBy(m => m.Key, StringComparer.Ordinal);

    /// <summary>A figure by name: <c>loss</c> is the training loss, anything else a metric.</summary>
    public double this[string name] => name == "loss" ? TrainLoss
        : Metrics.TryGetValue(name, out var v) ? v
        : throw Missing(name, null);

    /// <summary>Whether a larger value of <paramref name="figure"/> is better; a figure this epoch lacks is refused with the names it has.</summary>
    /// <param name="figure">The figure's name.</param>
    /// <param name="askedBy">Who watches the figure, for the message (e.g. "early stopping").</param>
    public bool IsHigherBetter(string figure, string? askedBy = null) =>
        figure == "loss" ? false
        : HigherIsBetter.TryGetValue(figure, out var higher) ? higher
        : throw Missing(figure, askedBy);

    ArgumentException Missing(string figure, string? askedBy) =>
        new((askedBy is null ? $"epoch {Epoch} has no figure '{figure}'" : $"{askedBy} watches '{figure}', which epoch {Epoch} does not have") +
            $"; it has {string.Join(", ", Figures)}. " +
            "Evaluate first (e.g. Eval.on / Callbacks.Evaluate) to add validation figures, or name one of these.");

    /// <summary>The same result with the metrics of the model on <paramref name="data"/> and <c>val_loss</c> (the run's loss) added.</summary>
    public EpochResult Evaluated(IEnumerable<Batch> data, params Metric[] metrics)
    {
        // On several ranks each evaluates its share and the sums are added: every rank gets the same figures.
        var values = Evaluation.Evaluate(State.Model, data, metrics, State.Loss, "", State.Ranks);
        return this with
        {
            Metrics = Metrics.SetItems(values),
            HigherIsBetter = HigherIsBetter.SetItems(metrics.Select(m => KeyValuePair.Create(m.Name, m.HigherIsBetter)))
                                           .SetItem("val_loss", false),
        };
    }

    /// <summary>The same result with one more figure and its direction.</summary>
    public EpochResult With(string name, double value, bool higherIsBetter) =>
        name == "loss" ? throw new ArgumentException("'loss' is the training loss; give the figure another name.")
        : this with { Metrics = Metrics.SetItem(name, value), HigherIsBetter = HigherIsBetter.SetItem(name, higherIsBetter) };

    /// <inheritdoc/>
    public override string ToString() =>
        $"epoch {Epoch}: loss {TrainLoss:F4}" + string.Concat(SortedMetrics.Select(m => $", {m.Key} {m.Value:F4}")) + $" ({Elapsed.TotalSeconds:F1} s)";
}
