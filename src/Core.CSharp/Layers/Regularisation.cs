using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>Zeroes each value with probability P in training (scaling the rest by 1/(1−P)); the identity in evaluation.</summary>
/// <param name="P">Probability of dropping a value.</param>
public sealed record Dropout(double P = 0.5) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => $"dropout({P})";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        P is >= 0 and < 1 ? input : throw new ShapeException(path, Describe(), input, "a probability in [0, 1)");
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.Dropout(P);
}

/// <summary>Zeroes whole channels with probability P in training: dropout for feature maps.</summary>
/// <param name="P">Probability of dropping a channel.</param>
public sealed record Dropout2d(double P = 0.5) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => $"dropout2d({P})";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input", "use dropout for vectors");
        return P is >= 0 and < 1 ? input : throw new ShapeException(path, Describe(), input, "a probability in [0, 1)");
    }
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.Dropout2d(P);
}
