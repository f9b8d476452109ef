using NeuralVision.Tensors;
using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>A 2-D convolution over [channels, height, width] inputs.</summary>
/// <param name="OutChannels">Output channels (filters).</param>
/// <param name="Kernel">Kernel height and width.</param>
/// <param name="Stride">Step between windows.</param>
/// <param name="Padding">Zeros added on each side.</param>
/// <param name="Dilation">Spacing between kernel taps.</param>
/// <param name="Groups">Input and output channels are split into this many independent groups.</param>
/// <param name="Bias">Whether to learn a bias per output channel.</param>
/// <param name="InChannels">Input channels if stated; inferred when null, checked when given.</param>
public sealed record Conv2d(long OutChannels, long Kernel, long Stride = 1, long Padding = 0, long Dilation = 1, long Groups = 1, bool Bias = true, long? InChannels = null) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() =>
        $"conv2d({OutChannels}, k{Kernel}" + (Stride != 1 ? $", s{Stride}" : "") + (Padding != 0 ? $", p{Padding}" : "") +
        (Dilation != 1 ? $", d{Dilation}" : "") + (Groups != 1 ? $", g{Groups}" : "") + ")";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input", input.Rank == 1 ? "reshape the vector into an image first (e.g. reshape 1x28x28)" : null);
        if (InChannels is { } stated && stated != input[0])
            throw new ShapeException(path, Describe(), input, $"{stated} input channels (as stated)", $"the layer before gives {input[0]}");
        if (input[0] % Groups != 0 || OutChannels % Groups != 0)
            throw new ShapeException(path, Describe(), input, $"channels divisible by groups={Groups} (in {input[0]}, out {OutChannels})");
        var h = ConvArithmetic.OutputSize(input[1], Kernel, Stride, Padding, Dilation);
        var w = ConvArithmetic.OutputSize(input[2], Kernel, Stride, Padding, Dilation);
        if (h < 1 || w < 1)
            throw new ShapeException(path, Describe(), input, $"at least {Dilation * (Kernel - 1) + 1 - 2 * Padding}x{Dilation * (Kernel - 1) + 1 - 2 * Padding} pixels for a {Kernel}x{Kernel} kernel with padding {Padding}", "the image has shrunk too far; pad more or pool less");
        return new Shape(OutChannels, h, w);
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) =>
        new Conv2dModule(nn.Conv2d(input[0], OutChannels, Kernel, stride: Stride, padding: Padding, dilation: Dilation, groups: Groups, bias: Bias),
            Stride, Padding, Dilation, Groups);
}

/// <summary>
/// A 2-D convolution with TorchSharp's parameters (made and initialised by its <c>Conv2d</c>, under the same names),
/// computed by <see cref="DirectConvolution"/> where that path takes the input, else on oneDNN primitives made once
/// per input shape (<see cref="OneDnnConvolution"/>, where Debian's oneDNN is here), else by libtorch's conv2d.
/// </summary>
internal sealed class Conv2dModule : nn.Module<Tensor, Tensor>
{
    readonly long stride, padding, dilation, groups;

    /// <summary>The convolution's padding (the same on every side).</summary>
    internal long Padding => padding;
    /// <summary>The weight, [O, C, K, K], and the bias (null without one), as registered now.</summary>
    internal (Tensor Weight, Tensor? Bias) Parameters => (get_parameter("weight")!, get_parameter("bias"));
    /// <summary>Whether DirectConvolution computes this layer on <paramref name="input"/>.</summary>
    internal bool Direct(Tensor input, Tensor weight) => DirectConvolution.Handles(input, weight, stride, padding, dilation, groups);
    /// <summary>Whether DirectConvolution may pool this layer's output as it computes it (<see cref="DirectConvolution.MayPool"/>), on an input it takes.</summary>
    internal bool MayPoolDirectly => stride == 1 && dilation == 1 && groups == 1 && DirectConvolution.MayPool(Parameters.Weight);

    // NV_CONVOLUTION=libtorch (read when the layer is made) keeps libtorch's conv2d where DirectConvolution does not apply.
    readonly bool oneDnn;

    public Conv2dModule(TorchSharp.Modules.Conv2d made, long stride, long padding, long dilation, long groups) : base("Conv2d")
    {
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        oneDnn = Environment.GetEnvironmentVariable("NV_CONVOLUTION") is not "libtorch";
        register_parameter("weight", made.weight!);
        if (made.bias is { } bias) register_parameter("bias", bias);
    }

    // oneDNN primitives made for the input shapes this layer has met (the last few), or null where they are not used.
    readonly List<(long[] Shape, OneDnnConvolution? Primitives)> primitives = [];
    const int ShapesKept = 4;

    public override Tensor forward(Tensor input)
    {
        // Looked up each time: moving the module to another device replaces the registered tensors.
        var (weight, bias) = Parameters;
        if (Direct(input, weight))
            return DirectConv2dFunction.Of(input, weight, bias, padding);
        if (PrimitivesFor(input, weight, bias) is { } made)
            return OneDnnConv2dFunction.Of(input.contiguous(), weight.contiguous(), bias, made);
        return nn.functional.conv2d(input, weight, bias, [stride, stride], [padding, padding], [dilation, dilation], groups);
    }

    /// <summary>The oneDNN primitives for this input's shape, or null where they are not used (see <see cref="OneDnnConvolution.TryCreate"/>).</summary>
    internal OneDnnConvolution? PrimitivesFor(Tensor input, Tensor weight, Tensor? bias)
    {
        if (!oneDnn || !OneDnnConvolution.Takes(input, weight, groups) || OneDnn.Missing is not null) return null;
        // Read once: each read of a tensor's shape is a call into the native library and a fresh array.
        var inputShape = input.Sizes();
        lock (primitives)
        {
            foreach (var (shape, made) in primitives)
                if (shape.SequenceEqual(inputShape)) return made;
            // A plan dropped here is freed by its finalizer once no autograd graph still holds it.
            if (primitives.Count == ShapesKept) primitives.RemoveAt(0);
            var created = OneDnnConvolution.TryCreate(inputShape, weight.shape, bias is not null, stride, padding, dilation);
            primitives.Add((inputShape, created));
            return created;
        }
    }

    /// <summary>
    /// relu(forward(input)) as one operation where <see cref="DirectConvolution"/> takes the input (the same numbers
    /// as the two steps, gradients included); null where it does not, for the caller to take the two steps.
    /// </summary>
    public Tensor? ForwardWithRelu(Tensor input)
    {
        var (weight, bias) = Parameters;
        return Direct(input, weight)
            ? DirectConv2dFunction.Of(input, weight, bias, padding, relu: true)
            : null;
    }
}

/// <summary>A 2-D transposed convolution ("deconvolution"), the learned upsampling of decoders.</summary>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Kernel">Kernel height and width.</param>
/// <param name="Stride">Upsampling factor.</param>
/// <param name="Padding">Implicit padding removed from each side.</param>
/// <param name="OutputPadding">Extra size added to one side of the output.</param>
/// <param name="Bias">Whether to learn a bias per output channel.</param>
public sealed record ConvTranspose2d(long OutChannels, long Kernel, long Stride = 1, long Padding = 0, long OutputPadding = 0, bool Bias = true) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() =>
        $"convTranspose2d({OutChannels}, k{Kernel}" + (Stride != 1 ? $", s{Stride}" : "") + (Padding != 0 ? $", p{Padding}" : "") + ")";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input");
        if (OutputPadding >= Stride)
            throw new ShapeException(path, Describe(), input, $"output padding below the stride ({OutputPadding} >= {Stride})");
        var h = ConvArithmetic.TransposedOutputSize(input[1], Kernel, Stride, Padding, OutputPadding);
        var w = ConvArithmetic.TransposedOutputSize(input[2], Kernel, Stride, Padding, OutputPadding);
        if (h < 1 || w < 1) throw new ShapeException(path, Describe(), input, "a larger input for this padding");
        return new Shape(OutChannels, h, w);
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) =>
        nn.ConvTranspose2d(input[0], OutChannels, Kernel, stride: Stride, padding: Padding, output_padding: OutputPadding, bias: Bias);
}
