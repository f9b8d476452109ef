using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Tensors;

/// <summary>
/// A tensor's sizes, a one-element tensor's value and the Scalar 1, without leaving native memory to the garbage
/// collector.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>shape</c> (and <c>size()</c>, <c>stride()</c>) passes native code a fresh delegate at every
/// call, <c>add_(tensor)</c> makes a <see cref="Scalar"/> 1 it never disposes, and <c>ToDouble()</c> a Scalar of its
/// own: each leaves a few bytes of native memory that only the collector's finalizers free, hundreds of steps later.
/// Scattered between a training step's freed activations, those bytes kept glibc from joining the free blocks around
/// them: the written-out LeNet pass (ManualBackward) grew malloc's heap from 94 to 186 MiB over its first 400 steps
/// with 84 MiB in use, and the bench's LeNet peak resident memory to 552–591 MiB, about PyTorch's 589; read and added
/// as here, the heap stays at 90–92 MiB and the peak at 518–525 MiB. <c>dim()</c> and <c>size(d)</c> are plain calls.
/// </remarks>
internal static class FinalizerFree
{
    /// <summary>The sizes of <paramref name="tensor"/>'s dimensions, as <c>shape</c> gives them.</summary>
    public static long[] Sizes(this Tensor tensor)
    {
        var sizes = new long[tensor.dim()];
        for (int d = 0; d < sizes.Length; d++) sizes[d] = tensor.size(d);
        return sizes;
    }

    /// <summary>The value of a one-element tensor, as <c>ToDouble()</c> gives it, its Scalar disposed here rather than by a finalizer.</summary>
    public static double Value(Tensor tensor)
    {
        using var scalar = tensor.ToScalar();
        return scalar.ToDouble();
    }

    /// <summary>1, made once: the alpha of an in-place addition (see the remarks).</summary>
    public static readonly Scalar One = 1;
}
