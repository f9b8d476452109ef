using NeuralVision.Tensors;
using NeuralVision.Data;
using NeuralVision.Distributed;
using NeuralVision.Layers;
using NeuralVision.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>
/// Metrics of a model over a data set, in evaluation mode and without gradients. Evaluation draws no
/// random numbers and leaves the model in the mode it found it, so adding it to a run changes nothing
/// that training sees.
/// </summary>
public static class Evaluation
{
    /// <summary>Samples per batch when evaluating a whole data set (the one setting for every evaluation).</summary>
    public const int BatchSize = 1000;

    /// <summary>The batches of <paramref name="data"/> in order, <see cref="BatchSize"/> at a time, as evaluation reads them.</summary>
    public static IEnumerable<Batch> Batches(TensorData data) => Loader.InOrder(data, BatchSize).Epoch(1);

    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="batches"/>: each metric's figure, and
    /// <c>val_loss</c> when a loss is given. The model's mode is put back as it was.
    /// </summary>
    public static Dictionary<string, double> Evaluate(Model model, IEnumerable<Batch> batches, IReadOnlyList<Metric> metrics, Loss? loss = null, string prefix = "") =>
        Evaluate(model, batches, metrics, loss, prefix, Communicator.Single);

    /// <summary>
    /// The same, shared by <paramref name="ranks"/> that hold the same model: each evaluates its share of every batch
    /// (every N-th sample, as in training) and the metrics' sums are added over the ranks before they become figures,
    /// so every rank gets the figures of the whole data set.
    /// </summary>
    internal static Dictionary<string, double> Evaluate(Model model, IEnumerable<Batch> batches, IReadOnlyList<Metric> metrics, Loss? loss, string prefix, Communicator ranks) =>
        model.InEvaluationMode(() => EvaluateInMode(model, batches, metrics, loss, prefix, ranks));

    static Dictionary<string, double> EvaluateInMode(Model model, IEnumerable<Batch> batches, IReadOnlyList<Metric> metrics, Loss? loss, string prefix, Communicator ranks)
    {
        using var inference = inference_mode();
        var sums = metrics.Select(_ => (double[]?)null).ToArray();
        double lossSum = 0;
        long samples = 0;
        using var e = batches.GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!e.MoveNext()) break;
            var batch = e.Current;
            try
            {
                var inputs = batch.Inputs.to(model.Device);
                var targets = batch.Targets.to(model.Device);
                // A batch with fewer samples than ranks is evaluated whole by every rank and counted by rank 0 alone
                // (so every rank learns the sums' sizes even when it gets no share).
                var shared = ranks.IsDistributed && batch.Count >= ranks.Size;
                if (shared)
                {
                    inputs = inputs.slice(0, ranks.Rank, batch.Count, ranks.Size);
                    targets = targets.slice(0, ranks.Rank, batch.Count, ranks.Size);
                }
                double weight = shared || ranks.IsRoot ? 1 : 0;
                var output = model.Forward(inputs);
                var count = inputs.size(0);
                if (loss is not null) lossSum += weight * FinalizerFree.Value(loss.Compute(output, targets)) * count;
                samples += (long)weight * count;
                for (int m = 0; m < metrics.Count; m++)
                {
                    var s = metrics[m].Sums(output, targets);
                    if (weight != 1) s = s.Select(v => weight * v).ToArray();
                    sums[m] = sums[m] is { } acc ? acc.Zip(s, (a, b) => a + b).ToArray() : s;
                }
            }
            finally
            {
                batch.Dispose();
            }
        }
        if (ranks.IsDistributed && sums.All(s => s is not null))
        {
            var total = ranks.AllReduceSum([lossSum, samples, .. sums.SelectMany(s => s!)]);
            (lossSum, samples) = (total[0], (long)total[1]);
            int at = 2;
            for (int m = 0; m < metrics.Count; m++) { sums[m] = total[at..(at + sums[m]!.Length)]; at += sums[m]!.Length; }
        }
        if (samples == 0) throw new ArgumentException("evaluation got no batches: the data set is empty.");
        var result = new Dictionary<string, double>();
        for (int m = 0; m < metrics.Count; m++) result[prefix + metrics[m].Name] = metrics[m].Finish(sums[m]!);
        if (loss is not null) result[prefix + "val_loss"] = lossSum / samples;
        return result;
    }

    /// <summary>The class predictions (arg-max) of a model over batches, in order.</summary>
    public static long[] Predictions(Model model, IEnumerable<Batch> batches) => model.InEvaluationMode(() =>
    {
        using var noGrad = no_grad();
        var result = new List<long>();
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            result.AddRange(model.Forward(batch.Inputs.to(model.Device)).argmax(1).cpu().data<long>().ToArray());
            batch.Dispose();
        }
        return result.ToArray();
    });

    /// <summary>The confusion matrix [true, predicted] of a classifier over batches.</summary>
    public static long[,] Confusion(Model model, IEnumerable<Batch> batches, int classes) => model.InEvaluationMode(() =>
    {
        using var noGrad = no_grad();
        var counts = new double[classes * classes];
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            var c = Metrics.ConfusionCounts(model.Forward(batch.Inputs.to(model.Device)), batch.Targets.to(model.Device), classes);
            for (int i = 0; i < counts.Length; i++) counts[i] += c[i];
            batch.Dispose();
        }
        var matrix = new long[classes, classes];
        for (int i = 0; i < classes; i++)
            for (int j = 0; j < classes; j++)
                matrix[i, j] = (long)counts[i * classes + j];
        return matrix;
    });
}
