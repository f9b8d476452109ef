using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// ReLU's gradient from its output, as libtorch's threshold_backward(gradient, output, 0) gives it: the gradient
/// where the output is above 0 (or NaN), +0 where it is 0 or below. For a ReLU computed inside another operation
/// (<see cref="DirectConv2dFunction"/>), in one pass on libtorch's OpenMP threads.
/// </summary>
internal static unsafe class ReluGradient
{
    // Elements per thread of libtorch's team (fewer: the calling thread alone).
    const long ElementsPerThread = 1 << 15;

    /// <summary>For contiguous float32 CPU tensors of one shape.</summary>
    public static Tensor Of(Tensor gradient, Tensor output)
    {
        var result = empty_like(gradient);
        var pass = new Pass((float*)TensorAddress.Of(gradient), (float*)TensorAddress.Of(output), (float*)TensorAddress.Of(result), gradient.numel());
        OpenMpTeam.Run(&RunPass, &pass, OpenMpTeam.ThreadsFor(pass.Count, ElementsPerThread));
        return result;
    }

    [UnmanagedCallersOnly]
    static void RunPass(void* data)
    {
        var pass = (Pass*)data;
        var (start, stop) = OpenMpTeam.VectorShare(pass->Count);
        pass->Run(start, stop);
    }

    readonly struct Pass(float* gradient, float* output, float* into, long count)
    {
        public readonly long Count = count;

        public void Run(long start, long stop)
        {
            long i = start;
            for (; i + 8 <= stop; i += 8)
            {
                // output ≤ 0 is false for NaN, so a NaN output passes its gradient on, as in libtorch.
                var blocked = Vector256.LessThanOrEqual(Vector256.Load(output + i), Vector256<float>.Zero);
                Vector256.ConditionalSelect(blocked, Vector256<float>.Zero, Vector256.Load(gradient + i)).Store(into + i);
            }
            for (; i < stop; i++) into[i] = output[i] <= 0 ? 0f : gradient[i];
        }
    }
}
