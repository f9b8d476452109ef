using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NeuralVision.Layers;

/// <summary>
/// conv2d computed by <see cref="DirectConvolution"/> as one autograd operation: forward and the weights' gradient
/// by its kernels, the input's gradient (when wanted) by libtorch's transposed convolution, the bias's by a sum.
/// Optionally with the ReLU that follows taken in: applied as the outputs are stored, its gradient in one pass
/// (<see cref="ReluGradient"/>), instead of a pass over the activations each way and an autograd node of its own.
/// </summary>
internal sealed class DirectConv2dFunction : SingleTensorFunction<DirectConv2dFunction>
{
    public override string Name => nameof(DirectConv2dFunction);

    /// <summary>conv2d(input, weight, bias, padding), stride 1, for inputs <see cref="DirectConvolution.Handles"/> takes; relu of it with <paramref name="relu"/>.</summary>
    public static Tensor Of(Tensor input, Tensor weight, Tensor? bias, long padding, bool relu = false) => apply(input, weight, bias!, padding, relu);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (input, weight, bias, padding, relu) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor, (long)vars[3], (bool)vars[4]);
        var (output, padded) = DirectConvolution.Forward(input, weight, bias, padding, relu);
        // The padded input is what the weights' gradient reads. ReLU's gradient is read off its output: kept without
        // its autograd history (saving this operation's own output with it would make a reference cycle).
        ctx.save_for_backward(relu ? [padded, weight, output.detach()] : [padded, weight]);
        ctx.save_data("padding", padding);
        ctx.save_data("wanted", new[] { input.requires_grad, weight.requires_grad, bias?.requires_grad ?? false });
        return output;
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();
        var (input, weight, bias) = Gradients(saved[0], saved[1], grad_output, saved.Count > 2 ? saved[2] : null,
            (long)ctx.get_data("padding"), (bool[])ctx.get_data("wanted"));
        return [input!, weight!, bias!, null!, null!];
    }

    /// <summary>
    /// The gradients of conv2d(input, weight, bias, padding) — or of relu of it, given that <paramref name="reluOutput"/>
    /// — from the gradient of its output, each only where <paramref name="wanted"/> (input, weight, bias); the input
    /// as <see cref="DirectConvolution.Forward"/> padded it.
    /// </summary>
    public static (Tensor? Input, Tensor? Weight, Tensor? Bias) Gradients(Tensor padded, Tensor weight, Tensor outputGradient, Tensor? reluOutput, long padding, bool[] wanted)
    {
        if (reluOutput is not null) outputGradient = ReluGradient.Of(outputGradient.contiguous(), reluOutput);
        var inputGradient = wanted[0] ? nn.functional.conv_transpose2d(outputGradient, weight, padding: [padding, padding]) : null;
        var (weightGradient, biasGradient) = wanted[1] || wanted[2] ? DirectConvolution.Gradients(padded, outputGradient, weight.size(2)) : (null, null);
        return (inputGradient, wanted[1] ? weightGradient : null, wanted[2] ? biasGradient : null);
    }
}
