using static TorchSharp.torch;

namespace NeuralVision.Tensors;

/// <summary>
/// Channels-last ("NHWC") layout of image batches. A [N, C, H, W] tensor keeps its shape and indices; only the
/// order of its values in memory changes, so that each pixel's channels sit side by side. libtorch's CPU kernels
/// follow the layout they are given: oneDNN convolutions then run without reordering their input and output to
/// its blocked format on every call, and pooling, BatchNorm and ReLU run over channels in SIMD lanes — how
/// PyTorch's CPU tuning guide and ONNX Runtime run image models. TorchSharp 0.107 has no memory-format argument,
/// so the layout is made the way PyTorch's strides describe it: an NHWC copy viewed as NCHW.
/// </summary>
internal static class MemoryLayout
{
    // The dimensions of [N, C, H, W] from the fastest-varying in memory to the slowest, channels-last.
    static readonly int[] ChannelsLastOrder = [1, 3, 2, 0];

    /// <summary>Whether the values of a 4-D tensor lie in channels-last order (sizes of 1 impose nothing).</summary>
    public static bool IsChannelsLast(Tensor x)
    {
        if (x.dim() != 4) return false;
        // Read a dimension at a time: shape and stride() would leave native memory to finalizers (FinalizerFree).
        long expected = 1;
        foreach (var d in ChannelsLastOrder)
        {
            long size = x.size(d);
            if (size != 1 && x.stride(d) != expected) return false;
            expected *= size;
        }
        return true;
    }

    /// <summary>The same batch in channels-last order (the tensor itself when it already is).</summary>
    public static Tensor ToChannelsLast(Tensor x) =>
        IsChannelsLast(x) ? x : x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
