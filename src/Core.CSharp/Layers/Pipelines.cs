using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// The fluent half of the C# API: each method appends one layer to a pipeline,
/// <c>Net.Conv2d(6, 5).Tanh().AvgPool(2)</c>. Kept apart from <see cref="Net"/>'s factories so that a
/// factory call such as <c>Net.Concat(a, b)</c> can never bind to the extension <c>a.Concat(b)</c>.
/// </summary>
public static class Pipelines
{
    /// <summary>The pipeline <paramref name="first"/> then <paramref name="next"/>.</summary>
    public static Sequence Then(this Layer first, Layer next) => Sequence.Of(first, next);

    /// <summary>Appends Linear (see the factory of that name).</summary>
    public static Sequence Linear(this Layer x, long outFeatures, bool bias = true, long? inFeatures = null) => x.Then(Net.Linear(outFeatures, bias, inFeatures));
    /// <summary>Appends Conv2d (see the factory of that name).</summary>
    public static Sequence Conv2d(this Layer x, long outChannels, long kernel, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, long? inChannels = null) =>
        x.Then(Net.Conv2d(outChannels, kernel, stride, padding, dilation, groups, bias, inChannels));
    /// <summary>Appends ConvTranspose2d (see the factory of that name).</summary>
    public static Sequence ConvTranspose2d(this Layer x, long outChannels, long kernel, long stride = 1, long padding = 0, long outputPadding = 0, bool bias = true) =>
        x.Then(Net.ConvTranspose2d(outChannels, kernel, stride, padding, outputPadding, bias));
    /// <summary>Appends MaxPool (see the factory of that name).</summary>
    public static Sequence MaxPool(this Layer x, long kernel, long? stride = null, long padding = 0, bool ceilMode = false) => x.Then(Net.MaxPool(kernel, stride, padding, ceilMode));
    /// <summary>Appends AvgPool (see the factory of that name).</summary>
    public static Sequence AvgPool(this Layer x, long kernel, long? stride = null, long padding = 0) => x.Then(Net.AvgPool(kernel, stride, padding));
    /// <summary>Appends AdaptiveAvgPool (see the factory of that name).</summary>
    public static Sequence AdaptiveAvgPool(this Layer x, long height, long width) => x.Then(Net.AdaptiveAvgPool(height, width));
    /// <summary>Appends GlobalAvgPool (see the factory of that name).</summary>
    public static Sequence GlobalAvgPool(this Layer x) => x.Then(Net.GlobalAvgPool());
    /// <summary>Appends Flatten (see the factory of that name).</summary>
    public static Sequence Flatten(this Layer x) => x.Then(Net.Flatten());
    /// <summary>Appends Reshape (see the factory of that name).</summary>
    public static Sequence Reshape(this Layer x, params long[] dims) => x.Then(Net.Reshape(dims));
    /// <summary>Appends Dropout (see the factory of that name).</summary>
    public static Sequence Dropout(this Layer x, double p = 0.5) => x.Then(Net.Dropout(p));
    /// <summary>Appends Dropout2d (see the factory of that name).</summary>
    public static Sequence Dropout2d(this Layer x, double p = 0.5) => x.Then(Net.Dropout2d(p));
    /// <summary>Appends BatchNorm1d (see the factory of that name).</summary>
    public static Sequence BatchNorm1d(this Layer x, double momentum = 0.1, double eps = 1e-5) => x.Then(Net.BatchNorm1d(momentum, eps));
    /// <summary>Appends BatchNorm2d (see the factory of that name).</summary>
    public static Sequence BatchNorm2d(this Layer x, double momentum = 0.1, double eps = 1e-5) => x.Then(Net.BatchNorm2d(momentum, eps));
    /// <summary>Appends LayerNorm (see the factory of that name).</summary>
    public static Sequence LayerNorm(this Layer x, int dims = 1, double eps = 1e-5) => x.Then(Net.LayerNorm(dims, eps));
    /// <summary>Appends ReLU (see the factory of that name).</summary>
    public static Sequence ReLU(this Layer x) => x.Then(Net.ReLU());
    /// <summary>Appends LeakyReLU (see the factory of that name).</summary>
    public static Sequence LeakyReLU(this Layer x, double slope = 0.01) => x.Then(Net.LeakyReLU(slope));
    /// <summary>Appends Sigmoid (see the factory of that name).</summary>
    public static Sequence Sigmoid(this Layer x) => x.Then(Net.Sigmoid());
    /// <summary>Appends Tanh (see the factory of that name).</summary>
    public static Sequence Tanh(this Layer x) => x.Then(Net.Tanh());
    /// <summary>Appends GELU (see the factory of that name).</summary>
    public static Sequence GELU(this Layer x) => x.Then(Net.GELU());
    /// <summary>Appends Softmax (see the factory of that name).</summary>
    public static Sequence Softmax(this Layer x, int dim = 0) => x.Then(Net.Softmax(dim));
    /// <summary>Appends LogSoftmax (see the factory of that name).</summary>
    public static Sequence LogSoftmax(this Layer x, int dim = 0) => x.Then(Net.LogSoftmax(dim));
    /// <summary>Appends Upsample (see the factory of that name).</summary>
    public static Sequence Upsample(this Layer x, long scale, UpsampleMode mode = UpsampleMode.Nearest) => x.Then(Net.Upsample(scale, mode));
    /// <summary>Appends PixelShuffle (see the factory of that name).</summary>
    public static Sequence PixelShuffle(this Layer x, long factor) => x.Then(Net.PixelShuffle(factor));
    /// <summary>Appends Lambda (see the factory of that name).</summary>
    public static Sequence Lambda(this Layer x, string name, Func<Tensor, Tensor> function) => x.Then(Net.Lambda(name, function));
    /// <summary>Appends Concat (see the factory of that name).</summary>
    public static Sequence Concat(this Layer x, params Layer[] branches) => x.Then(Net.Concat(branches));
    /// <summary>Appends Residual (see the factory of that name).</summary>
    public static Sequence Residual(this Layer x, Layer body, Layer? projection = null) => x.Then(Net.Residual(body, projection));
    /// <summary>Appends Skip (see the factory of that name).</summary>
    public static Sequence Skip(this Layer x, Layer inner) => x.Then(Net.Skip(inner));
    /// <summary>Appends Heads (see the factory of that name).</summary>
    public static Sequence Heads(this Layer x, params Layer[] heads) => x.Then(Net.Heads(heads));

    /// <summary>Builds the pipeline against an input shape (<see cref="Model.Build"/>).</summary>
    public static Model Build(this Layer layer, params long[] input) => Model.Build(layer, new Shape(input));
}
