using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NeuralVision.Losses;

/// <summary>The losses of regression and classification, each as PyTorch defines it.</summary>
public sealed partial record Loss
{
    /// <summary>Mean squared error.</summary>
    public static Loss Mse() => new("mse", (o, t) => F.mse_loss(o, t));
    /// <summary>Mean absolute error.</summary>
    public static Loss L1() => new("l1", (o, t) => F.l1_loss(o, t));
    /// <summary>Huber-like smooth L1: quadratic below <paramref name="beta"/>, linear above.</summary>
    public static Loss SmoothL1(double beta = 1.0) => new($"smoothL1({beta})", (o, t) => F.smooth_l1_loss(o, t, beta: beta));

    /// <summary>Binary cross-entropy on probabilities (after a sigmoid): −[t·log p + (1 − t)·log(1 − p)].</summary>
    public static Loss Bce(Reduce reduce = Reduce.Mean) => new("bce", (o, t) => F.binary_cross_entropy(o, t, reduction: Reduction(reduce)));

    /// <summary>Binary cross-entropy on logits (the sigmoid inside, numerically stable).</summary>
    public static Loss BceWithLogits(Reduce reduce = Reduce.Mean) =>
        new("bceWithLogits", (o, t) => F.binary_cross_entropy_with_logits(o, t, reduction: Reduction(reduce)));

    /// <summary>
    /// Cross-entropy on logits [N, C] against class indices [N] (int64): softmax inside, optional
    /// per-class weights and label smoothing, as PyTorch's cross_entropy.
    /// </summary>
    /// <remarks>Without weights or smoothing, a written-out training step takes its gradient without autograd (<see cref="CrossEntropyGradient"/>).</remarks>
    public static Loss CrossEntropy(double[]? classWeights = null, double labelSmoothing = 0.0)
    {
        var loss = new Loss(labelSmoothing > 0 ? $"crossEntropy(smoothing {labelSmoothing})" : "crossEntropy", (o, t) =>
        {
            using var weights = classWeights is null ? null : tensor(classWeights, dtype: o.dtype, device: o.device);
            return TargetsChecked(o, t, () => F.cross_entropy(o, t, weight: weights, label_smoothing: labelSmoothing));
        });
        return classWeights is null && labelSmoothing == 0
            ? loss.WithGradient((o, t) => TargetsChecked(o, t, () => CrossEntropyGradient.ValueAndGradient(o, t)))
            : loss;
    }

    /// <summary>Negative log-likelihood on log-probabilities [N, C] (after log-softmax) against class indices.</summary>
    public static Loss Nll(double[]? classWeights = null) =>
        new("nll", (o, t) =>
        {
            using var weights = classWeights is null ? null : tensor(classWeights, dtype: o.dtype, device: o.device);
            return TargetsChecked(o, t, () => F.nll_loss(o, t, weight: weights));
        });

    /// <summary><paramref name="compute"/>'s result, with libtorch's refusal of a class target outside 0..C−1 said plainly.</summary>
    static T TargetsChecked<T>(Tensor output, Tensor target, Func<T> compute)
    {
        try { return compute(); }
        catch (Exception e) when (IsTargetOutOfRange(e, output, target)) { throw TargetOutOfRange(output, target, e); }
    }

    // libtorch refuses a class target outside 0..C−1 with a raw "Target 13 is out of bounds". The targets are read
    // only when that happens, so a step pays nothing for the clearer message.
    static bool IsTargetOutOfRange(Exception e, Tensor output, Tensor target) =>
        e.Message.Contains("out of bounds") && output.dim() >= 2 && target.dtype == ScalarType.Int64;

    /// <summary>The error naming the first offending target and the class count.</summary>
    static Exception TargetOutOfRange(Tensor output, Tensor target, Exception inner)
    {
        var classes = output.size(1);
        using var bad = target.lt(0).logical_or(target.ge(classes));
        using var offending = target.masked_select(bad);
        if (offending.numel() == 0) return inner;
        var value = offending[0].item<long>();
        return new ArgumentException(
            $"a target is class {value}, but the model gives {classes} classes (0..{classes - 1}); "
            + "give the last layer as many outputs as there are classes, or fix the labels.", inner);
    }

    /// <summary>
    /// A loss for models with auxiliary heads (GoogLeNet): the output holds the main scores and, in
    /// training, each auxiliary head's scores after them, <paramref name="classes"/> columns each; the
    /// loss is base(main) + <paramref name="auxWeight"/> · Σ base(aux).
    /// </summary>
    public static Loss WithAuxiliary(Loss baseLoss, int classes, double auxWeight = 0.3) =>
        new($"{baseLoss.Name} + {auxWeight}·aux", (o, t) =>
        {
            if (o.size(1) == classes) return baseLoss.Compute(o, t);
            if (o.size(1) % classes != 0)
                throw new ArgumentException($"an output of {o.size(1)} columns is not a whole number of {classes}-class heads.");
            var heads = o.split(classes, 1);
            var total = baseLoss.Compute(heads[0], t);
            for (int i = 1; i < heads.Length; i++) total = total.add(baseLoss.Compute(heads[i], t).mul(auxWeight));
            return total;
        });

    internal static nn.Reduction Reduction(Reduce reduce) => reduce == Reduce.Sum ? nn.Reduction.Sum : nn.Reduction.Mean;
}
