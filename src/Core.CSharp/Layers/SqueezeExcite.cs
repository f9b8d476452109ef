namespace NeuralVision.Layers;

/// <summary>
/// Squeeze-and-excitation (Hu et al., 2018): x · gate(x). The gate squeezes each channel to its mean,
/// passes the means through a bottleneck and a sigmoid, and the result scales each channel of x: the
/// block learns which channels matter for this image. Written only as children and a wiring, so
/// building, the forward pass, the summary, freezing and ONNX export need nothing more.
/// </summary>
/// <param name="Gate">From [C, H, W] to one factor per channel, [C, 1, 1].</param>
public sealed record SqueezeExcite(Layer Gate) : Combinator
{
    /// <summary>
    /// The usual gate for <paramref name="channels"/> channels: global average, a 1×1 convolution down to
    /// channels / <paramref name="reduction"/>, ReLU, a 1×1 convolution back up, sigmoid.
    /// </summary>
    public static SqueezeExcite Of(long channels, long reduction = 16) =>
        new(Sequence.Of(
            new AdaptiveAvgPool2d(1, 1),
            Net.Conv2d(Math.Max(1, channels / reduction), 1), Net.ReLU(),
            Net.Conv2d(channels, 1), Net.Sigmoid()));

    /// <inheritdoc/>
    public override string Describe() => "squeeze-excite";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => [("gate", Gate)];

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new SqueezeExcite(children.Single());

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input) => wiring.Multiply(input, wiring.Child(0, input));
}
