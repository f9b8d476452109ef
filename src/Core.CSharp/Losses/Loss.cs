using static TorchSharp.torch;

namespace NeuralVision.Losses;

/// <summary>
/// A loss value: a named function of (model output, target) to a scalar tensor. Immutable; the
/// training fold calls it once per batch and back-propagates through its result.
/// </summary>
/// <param name="Name">Shown in progress and history.</param>
/// <param name="Function">(output, target) → scalar.</param>
public sealed partial record Loss(string Name, Func<Tensor, Tensor, Tensor> Function)
{
    /// <summary>The loss of a batch.</summary>
    public Tensor Compute(Tensor output, Tensor target) => Function(output, target);

    /// <summary>
    /// The loss of a batch and its gradient with respect to <paramref name="output"/>, taken without autograd and equal
    /// to the bit to autograd's; null where this loss has no such gradient, or not for this output (autograd takes it then).
    /// </summary>
    internal (Tensor Value, Tensor Gradient)? ValueAndGradient(Tensor output, Tensor target) =>
        writtenOut is var (function, valueAndGradient) && ReferenceEquals(function, Function) ? valueAndGradient(output, target) : null;

    // A gradient written out for this loss, and the Function it was written for: a copy with another Function (made
    // with `with`) is left to autograd.
    (Func<Tensor, Tensor, Tensor> For, Func<Tensor, Tensor, (Tensor, Tensor)?> ValueAndGradient)? writtenOut;

    /// <summary>This loss with its value and gradient written out by <paramref name="valueAndGradient"/> (see <see cref="ValueAndGradient"/>).</summary>
    Loss WithGradient(Func<Tensor, Tensor, (Tensor, Tensor)?> valueAndGradient) => this with { writtenOut = (Function, valueAndGradient) };

    /// <summary>The weighted sum of this loss and another on the same output and target.</summary>
    public Loss Plus(Loss other, double weight = 1.0) =>
        new($"{Name} + {weight}·{other.Name}", (o, t) => Function(o, t).add(other.Function(o, t).mul(weight)));

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>How a per-element loss is reduced to a scalar.</summary>
public enum Reduce
{
    /// <summary>The mean over all elements.</summary>
    Mean,
    /// <summary>The sum over all elements.</summary>
    Sum,
}
