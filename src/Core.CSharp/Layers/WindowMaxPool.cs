using NeuralVision.Tensors;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NeuralVision.Layers;

/// <summary>
/// Training's 2×2 max pool (stride 2, no padding) as one autograd operation: forward finds each window's maximum
/// and its position in one pass (<see cref="WindowArgmax"/>), backward writes each window's gradient at that
/// position in one pass. Values, positions and gradients are max_pool2d's to the bit.
/// </summary>
/// <remarks>
/// Before, the values were gathered at the positions so that the gradient could flow through gather's backward:
/// a gather and, going back, a zero-filled tensor and a scatter-add, libtorch operations of one element at a time.
/// On LeNet's pools at batch 64 they were most of the time: 64 × 6 × 28 × 28, forward and backward 0.97 ms; 64 × 16
/// × 10 × 10, 0.76 ms (of a 9 ms training step).
/// </remarks>
internal sealed class WindowMaxPool : SingleTensorFunction<WindowMaxPool>
{
    public override string Name => nameof(WindowMaxPool);

    /// <summary>
    /// max_pool2d(input, 2) for a contiguous float32 CPU [N, C, H, W] input, with its gradient; with
    /// <paramref name="relu"/>, max_pool2d(relu(input), 2), the ReLU's gradient included (no ReLU node or pass).
    /// </summary>
    public static Tensor Of(Tensor input, bool relu = false) => apply(input, relu);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (input, relu) = ((Tensor)vars[0], (bool)vars[1]);
        var (values, indices) = Pooled(input, relu);
        // The ReLU's gradient is read off the maxima (kept without this operation's autograd history).
        ctx.save_for_backward(relu ? [indices, values.detach()] : [indices]);
        ctx.save_data("shape", input.Sizes());
        return values;
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();
        return [Gradient(grad_output, saved[0], (long[])ctx.get_data("shape"), saved.Count > 1 ? saved[1] : null), null!];
    }

    /// <summary>
    /// The forward pass without autograd: max_pool2d(input, 2) — of relu(input) with <paramref name="relu"/> — [N, C,
    /// H/2, W/2], and where each maximum lies (for <see cref="Gradient"/>). A channels-last input (see
    /// <see cref="TakesChannelsLast"/>) is read where it lies.
    /// </summary>
    public static (Tensor Values, Tensor Indices) Pooled(Tensor input, bool relu)
    {
        long n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
        if (TakesChannelsLast(input))
        {
            return WindowArgmax.OfChannelsLast(input.permute(0, 2, 3, 1), relu);
        }
        var (values, indices) = WindowArgmax.Of(input.view(n * c, h, w), relu);
        return (values.view(n, c, h / 2, w / 2), indices);
    }

    /// <summary>Whether <see cref="Pooled"/> takes <paramref name="input"/> as it lies, channels-last (its channels eight at a time).</summary>
    public static bool TakesChannelsLast(Tensor input) =>
        input.dim() == 4 && input.size(1) > 1 && MemoryLayout.IsChannelsLast(input) && WindowArgmax.TakesChannelsLast(input.size(1));

    /// <summary>
    /// The input's gradient, of shape <paramref name="inputShape"/>, from the output's: each window's gradient at its
    /// maximum; given the <paramref name="maxima"/> of a pool with <c>relu</c>, the ReLU's gradient too. Channels-last
    /// where <see cref="Pooled"/> took its input so (its indices are then [N, OH, OW, C]).
    /// </summary>
    public static Tensor Gradient(Tensor outputGradient, Tensor indices, long[] inputShape, Tensor? maxima)
    {
        long n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        if (indices.dim() == 4)
        {
            return WindowArgmax.GradientChannelsLast(outputGradient.contiguous(), indices, h, w, maxima?.contiguous()).permute(0, 3, 1, 2);
        }
        var gradient = outputGradient.contiguous().view(n * c, -1);
        return WindowArgmax.Gradient(gradient, indices, h, w, maxima).view(n, c, h, w);
    }
}
