using NeuralVision.Data;
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
        model.InEvaluationMode(() => EvaluateInMode(model, batches, metrics, loss, prefix));

    static Dictionary<string, double> EvaluateInMode(Model model, IEnumerable<Batch> batches, IReadOnlyList<Metric> metrics, Loss? loss, string prefix)
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
                var output = model.Forward(inputs);
                if (loss is not null) lossSum += loss.Compute(output, targets).ToDouble() * batch.Count;
                samples += batch.Count;
                for (int m = 0; m < metrics.Count; m++)
                {
                    var s = metrics[m].Sums(output, targets);
                    sums[m] = sums[m] is { } acc ? acc.Zip(s, (a, b) => a + b).ToArray() : s;
                }
            }
            finally
            {
                batch.Dispose();
            }
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
