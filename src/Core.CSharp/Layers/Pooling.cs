using NeuralVision.Tensors;
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
        ? new PlanewiseMaxPoolModule(Kernel, StepSize, Padding, CeilMode)
        : nn.AvgPool2d(Kernel, StepSize, Padding, ceil_mode: CeilMode);
}

/// <summary>
/// libtorch's max pooling, computed where libtorch computes it fast. Its kernel for ordinary [N, C, H, W]
/// tensors is scalar: 0.64 ms for LeNet's first pool at batch 64, a quarter of a whole training step,
/// while its channels-last kernel runs over channels in SIMD lanes. Every (sample, channel) plane is
/// pooled alone, so the planes are handed to that kernel as the channels of one channels-last image;
/// the values and the indices it finds are the ones the ordinary kernel finds (the first maximum of each
/// window). With gradients, the indices are taken without autograd and the values gathered at them, so
/// the backward pass scatters the gradient to exactly the positions max_pool2d's backward does.
/// Measured at batch 64, 6×28×28: forward 0.64 → 0.15 ms; forward and backward bit-identical (tested). CPU only.
/// With 16 or more channels the planes of one sample stay together (`./nv bench profile`, ResNet-18's stem pool,
/// 32×64×32×32 in training: forward 22.0 → 7.9 ms, backward 2.3 → 2.2 ms).
/// Training's 2×2 pools skip the transposition: <see cref="WindowMaxPool"/> finds the maxima in place and writes
/// the gradient back there.
/// </summary>
internal sealed class PlanewiseMaxPoolModule(long kernel, long stride, long padding, bool ceilMode) : nn.Module<Tensor, Tensor>("maxPool")
{
    /// <summary>
    /// max_pool2d(relu(input)) as one operation where training's 2×2 windows take the input (the same numbers as the
    /// two steps, gradients included); null where they do not, for the caller to take the two steps.
    /// </summary>
    public Tensor? ForwardAfterRelu(Tensor input) => InTrainingWindows(input) ? WindowMaxPool.Of(input, relu: true) : null;

    /// <summary>Whether this is the 2×2 pool, stride 2, that <see cref="WindowMaxPool"/> computes.</summary>
    internal bool TwoByTwo => kernel == 2 && stride == 2 && padding == 0 && !ceilMode;

    // Training's 2×2 pools (indices wanted: autograd records) on a plain float32 batch: WindowMaxPool's case.
    bool InTrainingWindows(Tensor input) => input.requires_grad && is_grad_enabled() && TakesWindows(input);

    /// <summary>
    /// Whether <see cref="WindowMaxPool"/>'s 2×2 windows compute this pool on <paramref name="input"/> (a plain float32
    /// batch; or, with <paramref name="channelsLast"/>, one channels-last as <see cref="WindowMaxPool.TakesChannelsLast"/> takes it).
    /// </summary>
    internal bool TakesWindows(Tensor input, bool channelsLast = false) =>
        TwoByTwo && input.dim() == 4 && input.device_type == TorchSharp.DeviceType.CPU
        && input.dtype == ScalarType.Float32 && (input.is_contiguous() || channelsLast && WindowMaxPool.TakesChannelsLast(input));

    // Planes transposed at a time: LeNet's 64 × 6 = 384 planes of 28×28 were measured fast, 6,000 slow.
    const long PlanesPerGroup = 512;

    public override Tensor forward(Tensor input)
    {
        // The measurement behind this is of libtorch's CPU kernels; other devices have their own (cuDNN).
        // A channels-last batch is already where the fast kernel wants it.
        if (input.dim() != 4 || input.device_type != TorchSharp.DeviceType.CPU || MemoryLayout.IsChannelsLast(input))
            return nn.functional.max_pool2d(input, kernel, stride, padding, ceil_mode: ceilMode);
        long n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
        using var scope = NewDisposeScope();
        // Laid out channels-last so that the kernel's SIMD lanes are full: with a vector's worth of channels (16
        // floats in AVX-512) each sample's own channels fill them, [N, C, H, W] in (N, H, W, C) order; with fewer,
        // every (sample, channel) plane is made a channel of one image, [1, N·C, H, W] in (H, W, N·C) order — for
        // groups of samples whose planes stay in cache while they are transposed (at batch 1,000 one transposition
        // of all 6,000 LeNet planes took 22 ms, most of an inference pass).
        if (InTrainingWindows(input))
        {
            // Training's 2×2 pools: the indices found where the planes lie, with no transposition, eight windows at a
            // time (ResNet-like 64×56×56 at batch 64: forward 30.5 → 16.0 ms; LeNet's second pool, 64 × 16×10×10,
            // forward and backward 0.49 ms transposed here, 0.19 ms in place).
            return WindowMaxPool.Of(input).MoveToOuterDisposeScope();
        }
        var withIndices = input.requires_grad && is_grad_enabled();
        var group = c >= 16 ? n : Math.Max(1, PlanesPerGroup / c);
        var pooledParts = new List<Tensor>();
        var indexParts = new List<Tensor>();
        long oh = 0, ow = 0;
        for (long first = 0; first < n; first += group)
        {
            var part = input.detach().narrow(0, first, Math.Min(group, n - first));
            long m = part.size(0);
            var planes = MemoryLayout.ToChannelsLast(c >= 16 ? part : part.reshape(1, m * c, h, w));
            Tensor pooled;
            if (withIndices)
            {
                (pooled, var indices) = nn.functional.max_pool2d_with_indices(planes, [kernel, kernel], [stride, stride], [padding, padding], [1, 1], ceilMode);
                // Indices are positions within each plane (row · W + column), the same in either layout.
                indexParts.Add(indices.contiguous().view(m * c, -1));
            }
            else
            {
                pooled = nn.functional.max_pool2d(planes, [kernel, kernel], [stride, stride], [padding, padding], [1, 1], ceilMode);
                pooledParts.Add(pooled.contiguous().view(m, c, pooled.size(2), pooled.size(3)));
            }
            (oh, ow) = (pooled.size(2), pooled.size(3));
        }
        Tensor result = withIndices
            ? input.reshape(n * c, h * w).gather(1, indexParts.Count == 1 ? indexParts[0] : cat(indexParts, 0)).view(n, c, oh, ow)
            : pooledParts.Count == 1 ? pooledParts[0] : cat(pooledParts, 0);
        return result.MoveToOuterDisposeScope();
    }
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
