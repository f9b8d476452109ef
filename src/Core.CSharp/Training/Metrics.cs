using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>
/// A metric as a value: per batch it reduces (output, target) to a few sums; over a data set the
/// sums are added and <see cref="Finish"/> turns them into the figure. So every metric is exact over
/// the whole set, not a mean of batch means.
/// </summary>
/// <param name="Name">The figure's name in results, e.g. <c>accuracy</c>.</param>
/// <param name="Sums">(output, target) → the batch's sums.</param>
/// <param name="Finish">The added sums → the figure.</param>
/// <param name="HigherIsBetter">Whether larger values are better (for early stopping and checkpoints).</param>
public sealed record Metric(string Name, Func<Tensor, Tensor, double[]> Sums, Func<double[], double> Finish, bool HigherIsBetter)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The metrics of the course's tasks.</summary>
public static class Metrics
{
    /// <summary>Share of samples whose highest-scoring class (or, for one output column, logit &gt; 0) is the target.</summary>
    public static Metric Accuracy() => new("accuracy", (o, t) =>
    {
        using var predicted = Predict(o);
        using var right = predicted.eq(t.view_as(predicted)).sum();
        return [right.ToDouble(), t.shape[0]];
    }, s => s[0] / s[1], true);

    /// <summary>Share of samples whose target is among the <paramref name="k"/> highest-scoring classes.</summary>
    public static Metric TopK(int k) => new($"top{k}", (o, t) =>
    {
        using var scope = NewDisposeScope();
        var (_, top) = o.topk(k, 1);
        return [top.eq(t.unsqueeze(1)).any(1).sum().ToDouble(), t.shape[0]];
    }, s => s[0] / s[1], true);

    /// <summary>Mean squared error over all values.</summary>
    public static Metric Mse() => new("mse", (o, t) =>
    {
        using var sum = o.sub(t).square().sum();
        return [sum.ToDouble(), t.numel()];
    }, s => s[0] / s[1], false);

    /// <summary>Mean absolute error over all values.</summary>
    public static Metric Mae() => new("mae", (o, t) =>
    {
        using var sum = o.sub(t).abs().sum();
        return [sum.ToDouble(), t.numel()];
    }, s => s[0] / s[1], false);

    /// <summary>Mean over images of 10·log10(max² / MSE); outputs and targets in [0, <paramref name="max"/>].</summary>
    public static Metric Psnr(double max = 1.0) => new("psnr", (o, t) =>
    {
        using var scope = NewDisposeScope();
        var mse = o.clamp(0, max).sub(t).square().flatten(1).mean([1L]).clamp_min(1e-12);
        return [mse.reciprocal().mul(max * max).log10().mul(10).sum().ToDouble(), t.shape[0]];
    }, s => s[0] / s[1], true);

    /// <summary>Mean over images of intersection over union of masks; outputs are logits, thresholded at 0 (p = 0.5).</summary>
    public static Metric MaskIoU() => new("iou", (o, t) =>
    {
        using var scope = NewDisposeScope();
        var (inter, union) = Overlap(o, t);
        return [inter.add(1e-9).div(union.add(1e-9)).sum().ToDouble(), t.shape[0]];
    }, s => s[0] / s[1], true);

    /// <summary>Mean over images of the Dice coefficient 2|P∩T| / (|P| + |T|) of thresholded masks.</summary>
    public static Metric Dice() => new("dice", (o, t) =>
    {
        using var scope = NewDisposeScope();
        var (inter, union) = Overlap(o, t);
        var sizes = union.add(inter);
        return [inter.mul(2).add(1e-9).div(sizes.add(1e-9)).sum().ToDouble(), t.shape[0]];
    }, s => s[0] / s[1], true);

    /// <summary>
    /// Mean IoU of boxes for the course's localisation outputs [N, 5] (presence, cx, cy logits, log w, log h)
    /// against targets [N, 5] (presence, cx, cy, w, h), over the images that hold an object.
    /// </summary>
    public static Metric BoxIoU() => new("boxIou", (o, t) =>
    {
        using var scope = NewDisposeScope();
        var predicted = Losses.Loss.DecodeBox(o);
        var present = t[.., 0].gt(0.5);
        var iou = BoxIoUs(predicted[.., 1..5], t[.., 1..5]);
        return [iou.masked_select(present).sum().ToDouble(), present.sum().ToDouble()];
    }, s => s[1] == 0 ? double.NaN : s[0] / s[1], true);

    /// <summary>Macro-averaged precision over <paramref name="classes"/> classes.</summary>
    public static Metric Precision(int classes) => FromConfusion("precision", classes, c => Average(c, classes, (tp, predicted, actual) => predicted == 0 ? 0 : tp / predicted));
    /// <summary>Macro-averaged recall.</summary>
    public static Metric Recall(int classes) => FromConfusion("recall", classes, c => Average(c, classes, (tp, predicted, actual) => actual == 0 ? 0 : tp / actual));
    /// <summary>Macro-averaged F1.</summary>
    public static Metric F1(int classes) => FromConfusion("f1", classes, c => Average(c, classes, (tp, predicted, actual) => predicted + actual == 0 ? 0 : 2 * tp / (predicted + actual)));

    /// <summary>The confusion matrix counts [true class, predicted class] of a batch, flattened row by row.</summary>
    public static double[] ConfusionCounts(Tensor output, Tensor target, int classes)
    {
        using var scope = NewDisposeScope();
        var predicted = Predict(output);
        var index = target.view_as(predicted).to_type(ScalarType.Int64).mul(classes).add(predicted);
        return bincount(index, minlength: classes * classes).to_type(ScalarType.Float64).data<double>().ToArray();
    }

    /// <summary>Intersection over union of boxes given as (cx, cy, w, h), row by row: [N, 4] × [N, 4] → [N].</summary>
    public static Tensor BoxIoUs(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        Tensor Lo(Tensor box, int i) => box[.., i].sub(box[.., i + 2].div(2));
        Tensor Hi(Tensor box, int i) => box[.., i].add(box[.., i + 2].div(2));
        var w = minimum(Hi(a, 0), Hi(b, 0)).sub(maximum(Lo(a, 0), Lo(b, 0))).clamp_min(0);
        var h = minimum(Hi(a, 1), Hi(b, 1)).sub(maximum(Lo(a, 1), Lo(b, 1))).clamp_min(0);
        var inter = w.mul(h);
        var union = a[.., 2].mul(a[.., 3]).add(b[.., 2].mul(b[.., 3])).sub(inter);
        return inter.div(union.clamp_min(1e-12)).MoveToOuterDisposeScope();
    }

    /// <summary>Class predictions: arg-max over classes, or logit &gt; 0 for a single output column.</summary>
    static Tensor Predict(Tensor output) =>
        output.dim() == 1 || output.shape[1] == 1 ? output.reshape(-1).gt(0).to_type(ScalarType.Int64) : output.argmax(1);

    static (Tensor Inter, Tensor Union) Overlap(Tensor logits, Tensor mask)
    {
        var p = logits.gt(0).flatten(1).to_type(ScalarType.Float32);
        var t = mask.gt(0.5).flatten(1).to_type(ScalarType.Float32);
        var inter = p.mul(t).sum(1);
        return (inter, p.sum(1).add(t.sum(1)).sub(inter));
    }

    static Metric FromConfusion(string name, int classes, Func<double[], double> finish, bool higherIsBetter = true) =>
        new(name, (o, t) => ConfusionCounts(o, t, classes), finish, higherIsBetter);

    static double Average(double[] counts, int classes, Func<double, double, double, double> perClass) =>
        Enumerable.Range(0, classes).Average(c =>
        {
            double tp = counts[c * classes + c];
            double predicted = Enumerable.Range(0, classes).Sum(r => counts[r * classes + c]);
            double actual = Enumerable.Range(0, classes).Sum(k => counts[c * classes + k]);
            return perClass(tp, predicted, actual);
        });
}
