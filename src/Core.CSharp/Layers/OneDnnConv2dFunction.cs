using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NeuralVision.Layers;

/// <summary>conv2d as one autograd operation on <see cref="OneDnnConvolution"/>'s primitives: forward, and the input's, weights' and bias's gradients as wanted.</summary>
internal sealed class OneDnnConv2dFunction : SingleTensorFunction<OneDnnConv2dFunction>
{
    public override string Name => nameof(OneDnnConv2dFunction);

    /// <summary>conv2d(input, weight, bias) by <paramref name="primitives"/>, made for this input's shape.</summary>
    public static Tensor Of(Tensor input, Tensor weight, Tensor? bias, OneDnnConvolution primitives) => apply(input, weight, bias!, primitives);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (input, weight, bias, primitives) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor, (OneDnnConvolution)vars[3]);
        ctx.save_for_backward([input, weight]);
        ctx.save_data("primitives", primitives);
        ctx.save_data("wanted", new[] { input.requires_grad, weight.requires_grad, bias?.requires_grad ?? false });
        return primitives.Forward(input, weight, bias);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();
        var primitives = (OneDnnConvolution)ctx.get_data("primitives");
        var (input, weight, bias) = primitives.Backward(saved[0], saved[1], grad_output.contiguous(), (bool[])ctx.get_data("wanted"));
        return [input!, weight!, bias!, null!];
    }
}
