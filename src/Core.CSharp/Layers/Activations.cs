using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>The element-wise non-linearities.</summary>
public enum ActivationKind
{
    /// <summary>max(0, x).</summary>
    ReLU,
    /// <summary>x for x &gt; 0, slope·x otherwise.</summary>
    LeakyReLU,
    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>The hyperbolic tangent.</summary>
    Tanh,
    /// <summary>x·Φ(x), the Gaussian error linear unit.</summary>
    GELU,
}

/// <summary>An element-wise activation; the shape is unchanged.</summary>
/// <param name="Kind">Which function.</param>
/// <param name="Slope">The negative slope of leaky ReLU.</param>
public sealed record Activation(ActivationKind Kind, double Slope = 0.01) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => Kind switch
    {
        ActivationKind.LeakyReLU => $"leakyRelu({Slope})",
        _ => Kind.ToString().ToLowerInvariant(),
    };
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") => input;
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => Kind switch
    {
        ActivationKind.ReLU => nn.ReLU(),
        ActivationKind.LeakyReLU => nn.LeakyReLU(Slope),
        ActivationKind.Sigmoid => nn.Sigmoid(),
        ActivationKind.Tanh => nn.Tanh(),
        ActivationKind.GELU => nn.GELU(),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown activation"),
    };
}

/// <summary>Softmax (or log-softmax) over one dimension of each sample (0 = features/channels).</summary>
/// <param name="Log">Log-softmax, for NLL loss.</param>
/// <param name="Dim">The per-sample dimension to normalise over.</param>
public sealed record Softmax(bool Log = false, int Dim = 0) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => (Log ? "logSoftmax" : "softmax") + (Dim != 0 ? $"(dim {Dim})" : "");
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        Dim >= 0 && Dim < input.Rank ? input : throw new ShapeException(path, Describe(), input, $"a dimension {Dim}");
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => Log ? nn.LogSoftmax(Dim + 1) : nn.Softmax(Dim + 1);
}
