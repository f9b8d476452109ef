using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// The C# front door to layer values: <c>Net.Conv2d(6, 5).Tanh().AvgPool(2).Flatten().Linear(10)</c>.
/// Each factory returns an immutable layer value; each extension method appends one to a pipeline
/// (see <see cref="Pipelines"/>), so a partly written model can be reused as the start of several others.
/// </summary>
public static class Net
{
    /// <summary>A fully connected layer; in-features inferred unless stated.</summary>
    public static Layer Linear(long outFeatures, bool bias = true, long? inFeatures = null) => new Linear(outFeatures, bias, inFeatures);
    /// <summary>A 2-D convolution; in-channels inferred unless stated.</summary>
    public static Layer Conv2d(long outChannels, long kernel, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, long? inChannels = null) =>
        new Conv2d(outChannels, kernel, stride, padding, dilation, groups, bias, inChannels);
    /// <summary>A 2-D transposed convolution.</summary>
    public static Layer ConvTranspose2d(long outChannels, long kernel, long stride = 1, long padding = 0, long outputPadding = 0, bool bias = true) =>
        new ConvTranspose2d(outChannels, kernel, stride, padding, outputPadding, bias);
    /// <summary>Max pooling; stride defaults to the window.</summary>
    public static Layer MaxPool(long kernel, long? stride = null, long padding = 0, bool ceilMode = false) => new Pool2d(PoolKind.Max, kernel, stride, padding, ceilMode);
    /// <summary>Average pooling; stride defaults to the window.</summary>
    public static Layer AvgPool(long kernel, long? stride = null, long padding = 0) => new Pool2d(PoolKind.Average, kernel, stride, padding);
    /// <summary>Average pooling to a fixed size.</summary>
    public static Layer AdaptiveAvgPool(long height, long width) => new AdaptiveAvgPool2d(height, width);
    /// <summary>Per-channel mean over all positions: [C, H, W] → [C].</summary>
    public static Layer GlobalAvgPool() => new GlobalAvgPool();
    /// <summary>[C, H, W] → [C·H·W].</summary>
    public static Layer Flatten() => new Flatten();
    /// <summary>A new per-sample shape (one −1 allowed).</summary>
    public static Layer Reshape(params long[] dims) => new Reshape(dims);
    /// <summary>Dropout of values.</summary>
    public static Layer Dropout(double p = 0.5) => new Dropout(p);
    /// <summary>Dropout of whole channels.</summary>
    public static Layer Dropout2d(double p = 0.5) => new Dropout2d(p);
    /// <summary>Batch normalisation of features.</summary>
    public static Layer BatchNorm1d(double momentum = 0.1, double eps = 1e-5) => new BatchNorm1d(momentum, eps);
    /// <summary>Batch normalisation of image channels.</summary>
    public static Layer BatchNorm2d(double momentum = 0.1, double eps = 1e-5) => new BatchNorm2d(momentum, eps);
    /// <summary>Layer normalisation over the last <paramref name="dims"/> dimensions.</summary>
    public static Layer LayerNorm(int dims = 1, double eps = 1e-5) => new LayerNorm(dims, eps);
    /// <summary>max(0, x).</summary>
    public static Layer ReLU() => new Activation(ActivationKind.ReLU);
    /// <summary>Leaky ReLU with the given negative slope.</summary>
    public static Layer LeakyReLU(double slope = 0.01) => new Activation(ActivationKind.LeakyReLU, slope);
    /// <summary>The logistic sigmoid.</summary>
    public static Layer Sigmoid() => new Activation(ActivationKind.Sigmoid);
    /// <summary>The hyperbolic tangent.</summary>
    public static Layer Tanh() => new Activation(ActivationKind.Tanh);
    /// <summary>GELU.</summary>
    public static Layer GELU() => new Activation(ActivationKind.GELU);
    /// <summary>Softmax over features (per-sample dimension <paramref name="dim"/>).</summary>
    public static Layer Softmax(int dim = 0) => new Softmax(false, dim);
    /// <summary>Log-softmax over features, for NLL loss.</summary>
    public static Layer LogSoftmax(int dim = 0) => new Softmax(true, dim);
    /// <summary>Enlarges images by an integer factor.</summary>
    public static Layer Upsample(long scale, UpsampleMode mode = UpsampleMode.Nearest) => new Upsample(scale, mode);
    /// <summary>[C·r², H, W] → [C, H·r, W·r].</summary>
    public static Layer PixelShuffle(long factor) => new PixelShuffle(factor);
    /// <summary>The identity.</summary>
    public static Layer Identity() => new Identity();
    /// <summary>A layer from any tensor function (batch first).</summary>
    public static Layer Lambda(string name, Func<Tensor, Tensor> function) => new Lambda(name, function);
    /// <summary>Layers one after another.</summary>
    public static Layer Sequence(params Layer[] layers) => Layers.Sequence.Of(layers);
    /// <summary>Parallel branches concatenated along channels (Inception).</summary>
    public static Layer Concat(params Layer[] branches) => Layers.Concat.Of(branches);
    /// <summary>body(x) + x, or body(x) + projection(x).</summary>
    public static Layer Residual(Layer body, Layer? projection = null) => new Residual(body, projection);
    /// <summary>cat(x, inner(x)) along channels (U-Net).</summary>
    public static Layer Skip(Layer inner) => new Skip(inner);
    /// <summary>Several heads on the same input, outputs flattened and concatenated.</summary>
    public static Layer Heads(params Layer[] heads) => Layers.Heads.Of(heads);
    /// <summary>A layer under a name of its own (its path segment in a sequence).</summary>
    public static Layer Named(string name, Layer layer) => new Named(name, layer);
    /// <summary>A sub-pipeline kept whole under its index in the enclosing sequence (not spliced in), so its named children stay apart.</summary>
    public static Layer Block(Layer layer) => new Named("", layer);
    /// <summary>An auxiliary head (GoogLeNet): in training the output is [main, aux] flattened side by side; in evaluation only main.</summary>
    public static Layer Auxiliary(Layer main, Layer aux) => new Auxiliary(main, aux);
}
