using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>Which summary of a window a pooling layer takes.</summary>
public enum PoolKind
{
    /// <summary>The largest value.</summary>
    Max,
    /// <summary>The mean value.</summary>
    Average,
}

/// <summary>Max or average pooling over square windows of [channels, height, width] inputs.</summary>
/// <param name="Kind">Max or average.</param>
/// <param name="Kernel">Window size.</param>
/// <param name="Stride">Step between windows; the window size when null.</param>
/// <param name="Padding">Padding on each side (at most half the window).</param>
/// <param name="CeilMode">Round the output size up (a last, partial window counts), as GoogLeNet's pools do.</param>
public sealed record Pool2d(PoolKind Kind, long Kernel, long? Stride = null, long Padding = 0, bool CeilMode = false) : LeafLayer
{
    long StepSize => Stride ?? Kernel;

    /// <inheritdoc/>
    public override string Describe() =>
        $"{(Kind == PoolKind.Max ? "maxPool" : "avgPool")}({Kernel}" + (StepSize != Kernel ? $", s{StepSize}" : "") + (Padding != 0 ? $", p{Padding}" : "") + (CeilMode ? ", ceil" : "") + ")";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input", input.Rank == 1 ? "pool before flattening" : null);
        if (2 * Padding > Kernel)
            throw new ShapeException(path, Describe(), input, $"padding at most half the window ({Padding} > {Kernel}/2)");
        var h = Size(input[1]);
        var w = Size(input[2]);
        if (h < 1 || w < 1)
            throw new ShapeException(path, Describe(), input, $"at least {Kernel - 2 * Padding}x{Kernel - 2 * Padding} pixels", "the image has shrunk too far");
        return new Shape(input[0], h, w);
    }

    /// <summary>One output size; in ceil mode a last window must still start inside the input or its left padding (PyTorch's rule).</summary>
    long Size(long size)
    {
        if (!CeilMode) return ConvArithmetic.OutputSize(size, Kernel, StepSize, Padding);
        var output = (long)Math.Ceiling((size + 2.0 * Padding - Kernel) / StepSize) + 1;
        return (output - 1) * StepSize >= size + Padding ? output - 1 : output;
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => Kind == PoolKind.Max
        ? nn.MaxPool2d(Kernel, StepSize, Padding, ceil_mode: CeilMode)
        : nn.AvgPool2d(Kernel, StepSize, Padding, ceil_mode: CeilMode);
}

/// <summary>Average pooling to a fixed output size, whatever the input size (as before a classifier head).</summary>
/// <param name="Height">Output height.</param>
/// <param name="Width">Output width.</param>
public sealed record AdaptiveAvgPool2d(long Height, long Width) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => $"adaptiveAvgPool({Height}x{Width})";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input");
        return new Shape(input[0], Height, Width);
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.AdaptiveAvgPool2d([Height, Width]);
}

/// <summary>The mean of each channel over all positions: [channels, height, width] → [channels].</summary>
public sealed record GlobalAvgPool : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => "globalAvgPool";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input");
        return new Shape(input[0]);
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) =>
        new FunctionModule("globalAvgPool", x => x.mean([2L, 3L]));
}
