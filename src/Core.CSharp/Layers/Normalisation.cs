using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>Batch normalisation of features ([F] or [C, L]): batch statistics in training, running ones in evaluation.</summary>
/// <param name="Momentum">Weight of the newest batch in the running statistics.</param>
/// <param name="Eps">Added to the variance for stability.</param>
public sealed record BatchNorm1d(double Momentum = 0.1, double Eps = 1e-5) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => "batchNorm1d";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        input.Rank is 1 or 2 ? input : throw new ShapeException(path, Describe(), input, "a [features] or [channels, length] input", "use batchNorm2d for images");
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.BatchNorm1d(input[0], eps: Eps, momentum: Momentum);
}

/// <summary>Batch normalisation of image channels ([C, H, W]).</summary>
/// <param name="Momentum">Weight of the newest batch in the running statistics.</param>
/// <param name="Eps">Added to the variance for stability.</param>
public sealed record BatchNorm2d(double Momentum = 0.1, double Eps = 1e-5) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => "batchNorm2d";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        input.Rank == 3 ? input : throw new ShapeException(path, Describe(), input, "a [channels, height, width] input", input.Rank == 1 ? "use batchNorm1d for vectors" : null);
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.BatchNorm2d(input[0], eps: Eps, momentum: Momentum);
}

/// <summary>Layer normalisation over the last <paramref name="Dims"/> dimensions of each sample.</summary>
/// <param name="Dims">How many trailing dimensions to normalise over.</param>
/// <param name="Eps">Added to the variance for stability.</param>
public sealed record LayerNorm(int Dims = 1, double Eps = 1e-5) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => Dims == 1 ? "layerNorm" : $"layerNorm(last {Dims})";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        Dims >= 1 && Dims <= input.Rank ? input : throw new ShapeException(path, Describe(), input, $"at least {Dims} dimensions");
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) =>
        nn.LayerNorm(input.Skip(input.Rank - Dims).ToArray(), eps: Eps);
}
