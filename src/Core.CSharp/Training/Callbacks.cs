using NeuralVision.Data;
using NeuralVision.Losses;
using NeuralVision.Optim;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>
/// Callbacks as functions over the lazy run (Keras's and fastai's callbacks, as sequence transforms):
/// each takes the epoch results and returns them, evaluated, cut short, saved or tapped.
/// </summary>
public static class Callbacks
{
    /// <summary>Adds the metrics of the model on <paramref name="data"/>, and <c>val_loss</c> (the run's loss), to every epoch's result.</summary>
    public static IEnumerable<EpochResult> Evaluate(this IEnumerable<EpochResult> run, Func<IEnumerable<Batch>> data, params Metric[] metrics) =>
        run.Select(r => r.Evaluated(data(), metrics));

    /// <summary>
    /// Stops after <paramref name="patience"/> epochs without improvement of <paramref name="monitor"/>
    /// by more than <paramref name="minDelta"/>, in the direction the figure's metric gives. With
    /// <paramref name="restoreBest"/>, the model gets back the weights of its best epoch when the run ends,
    /// however it ends. A figure the run does not have is refused with the names it has.
    /// </summary>
    public static IEnumerable<EpochResult> EarlyStopping(this IEnumerable<EpochResult> run, string monitor, int patience, double minDelta = 0, bool restoreBest = true)
    {
        double best = double.NaN;
        int sinceBest = 0;
        Dictionary<string, Tensor>? bestWeights = null;
        TrainState? last = null;
        try
        {
            foreach (var r in run)
            {
                last = r.State;
                var higher = r.IsHigherBetter(monitor, "early stopping");
                var value = r[monitor];
                if (double.IsNaN(best) || (higher ? value > best + minDelta : value < best - minDelta))
                {
                    best = value;
                    sinceBest = 0;
                    if (restoreBest) bestWeights = Snapshot(r.State, bestWeights);
                }
                else sinceBest++;
                yield return r;
                if (sinceBest >= patience) yield break;
            }
        }
        finally
        {
            if (bestWeights is not null)
            {
                if (last is not null) Restore(last, bestWeights);
                foreach (var t in bestWeights.Values) t.Dispose();
            }
        }
    }

    /// <summary>
    /// Saves the weights to <paramref name="path"/> whenever <paramref name="monitor"/> improves (in its metric's direction);
    /// of several ranks, rank 0 alone writes (they hold the same weights).
    /// </summary>
    public static IEnumerable<EpochResult> CheckpointBest(this IEnumerable<EpochResult> run, string path, string monitor)
    {
        double best = double.NaN;
        foreach (var r in run)
        {
            var higher = r.IsHigherBetter(monitor, "the best-weights checkpoint");
            var value = r[monitor];
            if (double.IsNaN(best) || (higher ? value > best : value < best))
            {
                best = value;
                if (r.State.Ranks.IsRoot) Checkpoint.SaveWeights(r.State.Model, path);
            }
            yield return r;
        }
    }

    /// <summary>Saves the whole training state to <paramref name="path"/> after every epoch, so the run can resume (<see cref="Checkpoint.Load"/>).</summary>
    public static IEnumerable<EpochResult> CheckpointEvery(this IEnumerable<EpochResult> run, string path) =>
        run.Select(r =>
        {
            Checkpoint.Save(r.State, path);
            return r;
        });

    /// <summary>Sets the learning rate for the next epoch from an epoch schedule (step, cosine) and the rate of the first epoch.</summary>
    public static IEnumerable<EpochResult> Schedule(this IEnumerable<EpochResult> run, Schedule schedule)
    {
        if (schedule.PerStep) throw new ArgumentException($"{schedule} changes the rate every step; give it to Train.Start as its step schedule.");
        double? baseLr = null;
        foreach (var r in run)
        {
            baseLr ??= r.State.LearningRate;
            Train.SetLearningRate(r.State.Updater, schedule.At(r.Epoch, baseLr.Value));
            yield return r;
        }
    }

    /// <summary>
    /// Lowers the learning rate when <paramref name="monitor"/> stops improving (ReduceLROnPlateau); the
    /// direction of improvement is the figure's metric's, whatever <paramref name="plateau"/> says.
    /// </summary>
    public static IEnumerable<EpochResult> ReduceOnPlateau(this IEnumerable<EpochResult> run, ReduceOnPlateau plateau, string monitor)
    {
        ReduceOnPlateau.State? state = null;
        foreach (var r in run)
        {
            var directed = plateau with { HigherIsBetter = r.IsHigherBetter(monitor, "the plateau schedule") };
            state = directed.Next(state ?? directed.Start(r.State.LearningRate), r[monitor]);
            Train.SetLearningRate(r.State.Updater, state.Lr);
            yield return r;
        }
    }

    /// <summary>Calls <paramref name="action"/> on every result as it passes (printing, plotting, logging).</summary>
    public static IEnumerable<EpochResult> Tap(this IEnumerable<EpochResult> run, Action<EpochResult> action) =>
        run.Select(r =>
        {
            action(r);
            return r;
        });

    /// <summary>Prints each epoch's line (loss, metrics, time) as it passes; of several ranks, rank 0 alone prints.</summary>
    public static IEnumerable<EpochResult> Print(this IEnumerable<EpochResult> run, string prefix = "") =>
        run.Tap(r =>
        {
            if (r.State.Ranks.IsRoot) Console.WriteLine(prefix + r);
        });

    /// <summary>Copies of the model's parameters and buffers that no dispose scope owns.</summary>
    static Dictionary<string, Tensor> Snapshot(TrainState state, Dictionary<string, Tensor>? previous)
    {
        if (previous is not null) foreach (var t in previous.Values) t.Dispose();
        using var noGrad = no_grad();
        return state.Model.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    static void Restore(TrainState state, Dictionary<string, Tensor> weights)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in state.Model.Module.state_dict()) tensor.copy_(weights[name]);
    }
}
