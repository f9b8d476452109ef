using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralVision.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralVision.Optim;

/// <summary>
/// TorchSharp's Adam, bit for bit, in three passes over memory instead of eight.
/// </summary>
/// <remarks>
/// TorchSharp's step runs eight libtorch operations per parameter (mul_, add_, mul_, addcmul_, sqrt, div, add_,
/// addcdiv_), each a pass over the parameter and two of them allocating a fresh buffer of its size: on
/// ResNet-18's 11.2 M flattened parameters that is 35 ms of a 445 ms training step, all of it memory traffic.
/// Here one pass updates both moments (and leaves a copy of the second in a scratch buffer kept between steps),
/// libtorch takes its square root in place, and a second pass updates the weights. The arithmetic is libtorch's
/// own, operation for operation, so that training gives the same numbers as before: its vectorised add_ and
/// addcmul_ are fused multiply-adds, and so are ours; the scalars are rounded to float as libtorch rounds them;
/// the square root is libtorch's because its vectorised one is not IEEE-rounded (ours would differ in the last
/// bit for about 0.7 % of the elements). The tests hold both to the bit.
/// TorchSharp's own step runs instead where that equality has not been established: for parameters that are
/// not contiguous float32 CPU tensors, for AMSGrad or maximize, and on a CPU without FMA.
/// </remarks>
internal sealed class FusedAdam(IEnumerable<TorchSharp.Modules.Adam.ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad)
    : TorchSharp.Modules.Adam(groups, lr, beta1, beta2, eps, weightDecay, amsgrad)
{
    // Below this many elements a pass runs on the calling thread: splitting costs more than it saves.
    const long ElementsPerTask = 1 << 16;

    readonly Dictionary<IntPtr, Tensor> scratch = [];

    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (!Fma.IsSupported || !_parameter_groups.All(g => g is ParamGroup { Options: { amsgrad: false, maximize: false } } && g.Parameters.All(Fusable)))
            return base.step(closure);
        return _step<ParamGroup>(group =>
        {
            var options = group.Options;
            foreach (var param in group.Parameters)
            {
                if (param.grad is not { } grad) continue;
                var state = (State)_state[param.Handle];
                state.step += 1;
                Update(param, grad, state, options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value);
            }
        }, closure);
    }

    /// <summary>Whether the passes can read and write the parameter, its gradient and its moments as plain float arrays.</summary>
    bool Fusable(Parameter p)
    {
        if (p.dtype != ScalarType.Float32 || p.device_type != TorchSharp.DeviceType.CPU || !p.is_contiguous()) return false;
        // Moments restored from a checkpoint are the file's tensors: contiguous, but checked rather than assumed.
        if (_state[p.Handle] is not State { exp_avg: { } m, exp_avg_sq: { } v } || !m.is_contiguous() || !v.is_contiguous()) return false;
        return p.grad is not { } g || g.dtype == ScalarType.Float32 && g.is_contiguous();
    }

    unsafe void Update(Parameter param, Tensor grad, State state, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        var n = param.numel();
        if (!scratch.TryGetValue(param.Handle, out var root))
            scratch[param.Handle] = root = empty_like(param).DetachFromDisposeScope();
        // libtorch rounds each double scalar to the tensor's float before using it; so do we.
        var moments = new Moments(
            (float*)TensorAddress.Of(param), (float*)TensorAddress.Of(grad), (float*)TensorAddress.Of(state.exp_avg),
            (float*)TensorAddress.Of(state.exp_avg_sq), (float*)TensorAddress.Of(root),
            (float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2), (float)weightDecay);
        InParts(n, moments.Run);
        root.sqrt_();
        var weights = new Weights(
            (float*)TensorAddress.Of(param), (float*)TensorAddress.Of(state.exp_avg), (float*)TensorAddress.Of(root),
            (float)Math.Sqrt(1 - Math.Pow(beta2, state.step)), (float)eps, (float)(-(lr / (1 - Math.Pow(beta1, state.step)))));
        InParts(n, weights.Run);
    }

    /// <summary>
    /// Runs <paramref name="pass"/> over [0, n) in as many parts as libtorch has threads. libtorch's OpenMP worker
    /// spins on the other core for a while after backward, yet the split still paid: ResNet-18 steps 4.3 % faster
    /// than with TorchSharp's AdamW(0) with it, 1.2 % on one thread (30 steps each, alternating, one process).
    /// </summary>
    static void InParts(long n, Action<long, long> pass)
    {
        var parts = (int)Math.Min(get_num_threads(), Math.Max(1, n / ElementsPerTask));
        if (parts == 1) { pass(0, n); return; }
        // Whole vectors per part, so that only the last part has a scalar tail (as in libtorch's own split).
        long size = (n / parts + 7) / 8 * 8;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, k =>
            pass(k * size, Math.Min(n, (k + 1) * size)));
    }

    /// <summary>
    /// g ← g + λ·w (L2 decay, when λ ≠ 0), m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², root ← v:
    /// libtorch's grad.add(param, alpha: λ), exp_avg.mul_(β₁).add_(grad, alpha: 1 − β₁) and
    /// exp_avg_sq.mul_(β₂).addcmul_(grad, grad, value: 1 − β₂), each add a fused multiply-add.
    /// </summary>
    readonly unsafe struct Moments(float* w, float* g, float* m, float* v, float* root, float b1, float a1, float b2, float a2, float decay)
    {
        public void Run(long start, long stop)
        {
            long i = start;
            for (; i + 8 <= stop; i += 8)
            {
                var gi = Vector256.Load(g + i);
                if (decay != 0) gi = Fma.MultiplyAdd(Vector256.Load(w + i), Vector256.Create(decay), gi);
                var mi = Fma.MultiplyAdd(gi, Vector256.Create(a1), Vector256.Load(m + i) * Vector256.Create(b1));
                var vi = Fma.MultiplyAdd(Vector256.Create(a2) * gi, gi, Vector256.Load(v + i) * Vector256.Create(b2));
                mi.Store(m + i);
                vi.Store(v + i);
                vi.Store(root + i);
            }
            for (; i < stop; i++)
            {
                var gi = decay != 0 ? MathF.FusedMultiplyAdd(w[i], decay, g[i]) : g[i];
                m[i] = MathF.FusedMultiplyAdd(gi, a1, m[i] * b1);
                root[i] = v[i] = MathF.FusedMultiplyAdd(a2 * gi, gi, v[i] * b2);
            }
        }
    }

    /// <summary>
    /// w ← w − step·m / (√v / √(1 − β₂ᵗ) + ε), with √v already in <c>root</c>: libtorch's
    /// (exp_avg_sq.sqrt() / c).add_(eps) and param.addcdiv_(exp_avg, denom, value: −step).
    /// </summary>
    readonly unsafe struct Weights(float* w, float* m, float* root, float correction, float eps, float negativeStep)
    {
        public void Run(long start, long stop)
        {
            long i = start;
            for (; i + 8 <= stop; i += 8)
            {
                var denominator = Vector256.Load(root + i) / Vector256.Create(correction) + Vector256.Create(eps);
                (Vector256.Load(w + i) + Vector256.Create(negativeStep) * Vector256.Load(m + i) / denominator).Store(w + i);
            }
            for (; i < stop; i++)
                w[i] += negativeStep * m[i] / (root[i] / correction + eps);
        }
    }

    protected override void Dispose(bool disposing)
    {
        foreach (var t in scratch.Values) t.Dispose();
        scratch.Clear();
        base.Dispose(disposing);
    }
}
