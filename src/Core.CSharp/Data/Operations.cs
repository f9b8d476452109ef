using System.Text;
using NeuralVision.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>Splits, subsets and summaries of data sets.</summary>
public static class DataOps
{
    /// <summary>The samples at <paramref name="indices"/>, in that order.</summary>
    public static TensorData Subset(this TensorData data, long[] indices)
    {
        using var index = tensor(indices, device: data.Inputs.device);
        return new TensorData(data.Inputs.index_select(0, index), data.Targets.index_select(0, index));
    }

    /// <summary>The data with <paramref name="map"/> applied to its inputs.</summary>
    public static TensorData Map(this TensorData data, Func<Tensor, Tensor> map) => data with { Inputs = map(data.Inputs) };

    /// <summary>
    /// A seeded split into (train, validation) with <paramref name="validationFraction"/> of the samples
    /// in validation; stratified by class when the targets are class indices (int64 [N]), so both parts
    /// keep the class proportions.
    /// </summary>
    public static (TensorData Train, TensorData Validation) Split(this TensorData data, double validationFraction, int seed)
    {
        if (validationFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "a fraction strictly between 0 and 1");
        var random = new Random(seed);
        var n = (int)data.Count;
        var groups = data.Targets.dtype == ScalarType.Int64 && data.Targets.dim() == 1
            ? data.Targets.cpu().data<long>().ToArray().Select((label, i) => (label, i)).GroupBy(p => p.label).OrderBy(g => g.Key).Select(g => g.Select(p => p.i).ToArray()).ToList()
            : [Enumerable.Range(0, n).ToArray()];
        var train = new List<long>();
        var validation = new List<long>();
        foreach (var group in groups)
        {
            var shuffled = group.OrderBy(_ => random.Next()).ToArray();
            var take = (int)Math.Round(group.Length * validationFraction);
            validation.AddRange(shuffled.Take(take).Select(i => (long)i));
            train.AddRange(shuffled.Skip(take).Select(i => (long)i));
        }
        return (data.Subset(train.Order().ToArray()), data.Subset(validation.Order().ToArray()));
    }

    /// <summary>
    /// scikit-learn's <c>train_test_split(…, test_size, random_state)</c> with shuffling and no
    /// stratification, sample for sample: ⌈fraction·N⌉ test samples, both parts in the order
    /// scikit-learn returns them. Use it to reproduce a split published with a NumPy seed; the
    /// global <c>np.random.seed(s)</c> followed by a split without random_state is the same split.
    /// </summary>
    public static (TensorData Train, TensorData Test) SplitLikeScikitLearn(this TensorData data, double testFraction, uint randomState) =>
        data.SplitLikeScikitLearn(testFraction, new NumPyRandomState(randomState));

    /// <summary>As <see cref="SplitLikeScikitLearn(TensorData, double, uint)"/>, drawing from <paramref name="numpy"/> as a split with <c>random_state=None</c> draws from NumPy's global state.</summary>
    public static (TensorData Train, TensorData Test) SplitLikeScikitLearn(this TensorData data, double testFraction, NumPyRandomState numpy)
    {
        if (testFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "a fraction strictly between 0 and 1");
        var n = (int)data.Count;
        var testCount = (int)Math.Ceiling(testFraction * n);
        if (testCount == n)
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, $"{n} samples leave none for training at this fraction; use a smaller one");
        var order = numpy.Permutation(n);
        return (data.Subset(order[testCount..]), data.Subset(order[..testCount]));
    }

    /// <summary>One-hot float rows [N, classes] from class indices [N].</summary>
    public static Tensor OneHot(Tensor labels, int classes) => nn.functional.one_hot(labels, classes).to_type(ScalarType.Float32);

    /// <summary>Rows, sample shape, classes with counts, and the mean and standard deviation of the inputs.</summary>
    public static string Describe(this TensorData data, IReadOnlyList<string>? classes = null, string title = "")
    {
        using var scope = NewDisposeScope();
        var text = new StringBuilder();
        if (title.Length > 0) text.AppendLine(title);
        text.AppendLine($"  rows:    {data.Count:N0}");
        text.AppendLine($"  shape:   {string.Join("x", data.Inputs.shape.Skip(1))}");
        var x = data.Inputs.to_type(ScalarType.Float64);
        text.AppendLine($"  mean:    {x.mean().ToDouble():G5}");
        text.AppendLine($"  std:     {x.std().ToDouble():G5}");
        if (data.Targets.dtype == ScalarType.Int64 && data.Targets.dim() == 1)
        {
            var counts = bincount(data.Targets.cpu()).data<long>().ToArray();
            text.AppendLine($"  classes: {counts.Length}");
            for (int c = 0; c < counts.Length; c++)
                text.AppendLine($"    {c,3} {(classes is not null && c < classes.Count ? classes[c] : ""),-14} {counts[c],8:N0}");
        }
        return text.ToString().TrimEnd();
    }
}
