using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>A fully connected layer: y = x·Wᵀ + b, on a flat [features] input.</summary>
/// <param name="OutFeatures">Output features.</param>
/// <param name="Bias">Whether to learn a bias.</param>
/// <param name="InFeatures">Input features if stated; inferred from the input shape when null, and checked when given.</param>
public sealed record Linear(long OutFeatures, bool Bias = true, long? InFeatures = null) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => $"linear({OutFeatures})";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 1, "a flat [features] input", input.Rank > 1 ? $"add flatten before it (it would get {input.Elements} features)" : null);
        if (InFeatures is { } stated && stated != input[0])
            throw new ShapeException(path, Describe(), input, $"{stated} input features (as stated)", $"the layer before gives {input[0]}; drop the stated size to infer it");
        return new Shape(OutFeatures);
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.Linear(input[0], OutFeatures, hasBias: Bias);
}
