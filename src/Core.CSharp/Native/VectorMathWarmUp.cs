using static TorchSharp.torch;

namespace NeuralVision.Native;

/// <summary>
/// Calls each of libtorch's MKL vector-math functions once, on one element and one thread, before anything can
/// call it from several threads at once.
/// </summary>
/// <remarks>
/// libtorch sends contiguous float unary operations (sqrt, exp, log, tanh, …) to MKL's VML, each intra-op thread
/// on its own chunk, asking for full accuracy (VML_HA). MKL picks each function's kernel lazily, at that
/// function's first call, and the pick is not safe under concurrency: when the first call runs on two threads at
/// once, one thread's whole chunk can go through the low-accuracy kernel (about 11 correct bits) for that one call
/// (pytorch/pytorch#188792, oneMKL 2024.2 as bundled with libtorch 2.10). Here that was Adam's first step: the
/// square root of the second moments came out 3·10⁻⁴ off over one thread's half of the weights in about one
/// process in ninety, so two runs with the same seed parted from the first step on (the "8th digit" difference
/// the cross-process determinism test met now and then). Once a function has been called, later calls take the
/// right kernel, so one call per function and precision on the loading thread settles it (the fix proposed
/// upstream, pytorch/pytorch#188791). The list is libtorch's own (aten/src/ATen/cpu/vml.h, older versions'
/// entries included); a function libtorch computes elsewhere only costs a call on one element.
/// </remarks>
internal static class VectorMathWarmUp
{
    static readonly Func<Tensor, Tensor>[] Functions =
    [
        t => t.sqrt(), t => t.exp(), t => t.expm1(), t => t.log(), t => t.log10(), t => t.log2(), t => t.log1p(),
        t => t.sin(), t => t.cos(), t => t.tan(), t => t.tanh(), t => t.asin(), t => t.acos(), t => t.atan(),
        t => t.erf(), t => t.erfc(), t => t.erfinv(), t => t.trunc(), t => t.abs(),
    ];

    /// <summary>Calls every function once on a one-element float32 and float64 tensor (values inside every domain).</summary>
    public static void Run()
    {
        using var scope = NewDisposeScope();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var half = full([1], 0.5, dtype: type);
            foreach (var function in Functions) function(half);
        }
    }
}
