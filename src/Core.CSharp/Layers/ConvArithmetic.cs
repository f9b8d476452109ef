namespace NeuralVision.Layers;

/// <summary>The course's calc_out_shape: how convolution and pooling change spatial sizes.</summary>
public static class ConvArithmetic
{
    /// <summary>
    /// One spatial output size of a convolution or pooling window:
    /// out = floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1.
    /// Zero or less means the window does not fit.
    /// </summary>
    public static long OutputSize(long size, long kernel, long stride = 1, long padding = 0, long dilation = 1) =>
        (long)Math.Floor((size + 2.0 * padding - dilation * (kernel - 1) - 1) / stride) + 1;

    /// <summary>One spatial output size of a transposed convolution: (size − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1.</summary>
    public static long TransposedOutputSize(long size, long kernel, long stride = 1, long padding = 0, long outputPadding = 0, long dilation = 1) =>
        (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;

    /// <summary>
    /// The course's calc_out_shape on a full N×C×H×W shape: [1, 1, 32, 32] with 6 output channels,
    /// kernel 5, stride 1, padding 0 gives [1, 6, 28, 28].
    /// </summary>
    public static long[] CalcOutShape(long[] input, long outChannels, long kernel, long stride = 1, long padding = 0, long dilation = 1)
    {
        if (input.Length != 4)
            throw new ArgumentException($"calc_out_shape takes an N×C×H×W shape, got {input.Length} dimensions: [{string.Join(", ", input)}].");
        return [input[0], outChannels,
            OutputSize(input[2], kernel, stride, padding, dilation),
            OutputSize(input[3], kernel, stride, padding, dilation)];
    }
}
