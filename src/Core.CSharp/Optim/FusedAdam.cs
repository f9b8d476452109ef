using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// bit for about 0.7 % of the elements). Moments that have decayed below float's normal range are multiplied
/// by integer arithmetic that rounds as the float multiplication does, without its microcode assists (see
/// <see cref="Moments"/>). The tests hold both to the bit, those moments included.
/// TorchSharp's own step runs instead where that equality has not been established: for parameters that are
/// not contiguous float32 CPU tensors, for AMSGrad or maximize, and on a CPU without FMA.
/// </remarks>
internal sealed unsafe class FusedAdam(IEnumerable<TorchSharp.Modules.Adam.ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad)
    : TorchSharp.Modules.Adam(groups, lr, beta1, beta2, eps, weightDecay, amsgrad)
{
    // Below this many elements a pass runs on the calling thread: splitting costs more than it saves.
    const long ElementsPerTask = 1 << 14;

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

    /// <summary>
    /// Zeroes the gradients as TorchSharp's does (each one's zero_()), a contiguous float32 one by clearing its memory
    /// on this thread: libtorch's fill forks its team for LeNet's 61,706 flattened gradients, 21–36 µs against 10–12
    /// (measured with the buffer out of cache, as it is after a step).
    /// </summary>
    public override void zero_grad()
    {
        foreach (var group in _parameter_groups)
            foreach (var param in group.Parameters)
            {
                using var grad = param.grad;
                if (grad is null) continue;
                if (grad.dtype == ScalarType.Float32 && grad.device_type == TorchSharp.DeviceType.CPU && grad.is_contiguous() && grad.numel() <= int.MaxValue)
                    new Span<float>(TensorAddress.Of(grad), (int)grad.numel()).Clear();
                else grad.zero_();
            }
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
        float correction = (float)Math.Sqrt(1 - Math.Pow(beta2, state.step)), epsilon = (float)eps;
        var moments = new Moments(
            (float*)TensorAddress.Of(param), (float*)TensorAddress.Of(grad), (float*)TensorAddress.Of(state.exp_avg),
            (float*)TensorAddress.Of(state.exp_avg_sq), (float*)TensorAddress.Of(root),
            (float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2), (float)weightDecay, ZeroRoot(correction, epsilon));
        InParts(n, moments.Run);
        root.sqrt_();
        var weights = new Weights(
            (float*)TensorAddress.Of(param), (float*)TensorAddress.Of(state.exp_avg), (float*)TensorAddress.Of(root),
            correction, epsilon, (float)(-(lr / (1 - Math.Pow(beta1, state.step)))));
        InParts(n, weights.Run);
    }

    /// <summary>
    /// What the moments pass leaves for libtorch's square root where v = 0. libtorch's square root takes a slow path
    /// for zeros (0.19 against 0.03 ms over LeNet's 61,706 weights with a fifth of them 0); in their place 2⁻¹²⁶, the
    /// smallest normal float, has the root 2⁻⁶³, and 2⁻⁶³ / c + ε is ε to the bit whenever 2⁻⁶³ / c is below half a
    /// unit in the last place of ε (at the usual ε = 10⁻⁸ for any c above 10⁻²): then the denominator is the one
    /// that 0 gives. Otherwise (ε = 0, say) the zeros stay, slow path and all.
    /// </summary>
    static float ZeroRoot(float correction, float epsilon)
    {
        var smallestNormal = MathF.ScaleB(1f, -126);
        double halfUnit = (MathF.BitIncrement(epsilon) - (double)epsilon) / 2;
        return epsilon > 0 && correction > 0 && Math.ScaleB(1.0, -63) / correction * (1 + 1e-6) < halfUnit ? smallestNormal : 0f;
    }

    /// <summary>
    /// Runs <paramref name="pass"/> over [0, n) in as many parts as libtorch has threads, on libtorch's own OpenMP
    /// threads (<see cref="OpenMpTeam"/>): its worker, spinning on the other core after backward, takes its part at once.
    /// </summary>
    static void InParts(long n, Action<long, long> pass)
    {
        var parts = OpenMpTeam.ThreadsFor(n, ElementsPerTask);
        if (parts == 1) { pass(0, n); return; }
        var handle = GCHandle.Alloc(pass);
        try
        {
            var job = new Job(GCHandle.ToIntPtr(handle), n);
            OpenMpTeam.Run(&RunPart, &job, parts);
        }
        finally { handle.Free(); }
    }

    readonly record struct Job(IntPtr Pass, long Count);

    [UnmanagedCallersOnly]
    static void RunPart(void* data)
    {
        var job = (Job*)data;
        var (start, stop) = OpenMpTeam.VectorShare(job->Count);
        ((Action<long, long>)GCHandle.FromIntPtr(job->Pass).Target!)(start, stop);
    }

    /// <summary>
    /// g ← g + λ·w (L2 decay, when λ ≠ 0), m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², root ← v (or
    /// <paramref name="zeroRoot"/> for v = 0):
    /// libtorch's grad.add(param, alpha: λ), exp_avg.mul_(β₁).add_(grad, alpha: 1 − β₁) and
    /// exp_avg_sq.mul_(β₂).addcmul_(grad, grad, value: 1 − β₂), each add a fused multiply-add.
    /// </summary>
    /// <remarks>
    /// A weight whose gradient stays 0 (a unit that no longer fires) sees its first moment shrink by β₁ a step, into
    /// the floats below the normal range after some 800 steps and through them for 150 more. Every multiplication
    /// with such a number, or giving one, is a microcode assist of about 150 cycles: after two epochs of LeNet a fifth
    /// of its first moments were there, and this pass took 0.17 ms where 0.02 would do. Those moments are decayed here
    /// by integer arithmetic that rounds as the multiplication would (<see cref="Decayed"/>); the rarer cases (a tiny
    /// gradient, a tiny second moment, a tiny moment meeting a gradient again) take the plain arithmetic, assists and all.
    /// </remarks>
    readonly unsafe struct Moments(float* w, float* g, float* m, float* v, float* root, float b1, float a1, float b2, float a2, float decay, float zeroRoot)
    {
        public void Run(long start, long stop)
        {
            // Gradients below this (not 0) may give a product below the normal range: (1 − β₁)·g or (1 − β₂)·g·g.
            var smallGradient = Vector256.Create((float)Math.Min(float.MaxValue,
                Math.Max(Subnormal.Tiny / Math.Max(a1, 1e-30), Math.Sqrt(Subnormal.Tiny / Math.Max(a2, 1e-30)))));
            bool decayByIntegers = Avx.IsSupported && b1 is >= 0.5f and <= 1f;
            long i = start;
            for (; i + 8 <= stop; i += 8)
            {
                var gi = Vector256.Load(g + i);
                if (decay != 0) gi = Fma.MultiplyAdd(Vector256.Load(w + i), Vector256.Create(decay), gi);
                var mi = Vector256.Load(m + i);
                var vi = Vector256.Load(v + i);
                var tinyMoment = Subnormal.IsTiny(mi);
                var rare = Subnormal.IsTiny(vi) | (Vector256.LessThan(Vector256.Abs(gi), smallGradient) & ~Vector256.Equals(gi, Vector256<float>.Zero));
                var zeroGradient = Vector256.Equals(gi, Vector256<float>.Zero);
                if (rare != Vector256<float>.Zero || (tinyMoment & ~zeroGradient) != Vector256<float>.Zero
                    || tinyMoment != Vector256<float>.Zero && !decayByIntegers)
                {
                    Plain(i, i + 8);
                    continue;
                }
                // Tiny moments (with a zero gradient) are left out of the vector arithmetic and decayed by integers.
                var safe = Vector256.ConditionalSelect(tinyMoment, Vector256<float>.Zero, mi);
                var mNew = Fma.MultiplyAdd(gi, Vector256.Create(a1), safe * Vector256.Create(b1));
                var vNew = Fma.MultiplyAdd(Vector256.Create(a2) * gi, gi, vi * Vector256.Create(b2));
                if (tinyMoment != Vector256<float>.Zero)
                    mNew = Vector256.ConditionalSelect(tinyMoment, Decayed(mi, gi), mNew);
                mNew.Store(m + i);
                vNew.Store(v + i);
                Vector256.ConditionalSelect(Vector256.Equals(vNew, Vector256<float>.Zero), Vector256.Create(zeroRoot), vNew).Store(root + i);
            }
            Plain(i, stop);
        }

        /// <summary>
        /// (1 − β₁)·g + β₁·m for tiny m (below 2⁻¹²⁵) and g = ±0, as the fused multiply-add gives it: m's bits are a
        /// whole number of 2⁻¹⁴⁹ (the quantum of floats below 2⁻¹²⁵); times β₁, exact in double, and rounded to the
        /// nearest whole number, ties to even, they are the product's bits. A product of 0 takes its sign by IEEE's rule
        /// for adding zeros: negative only if both zeros are.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector256<float> Decayed(Vector256<float> moment, Vector256<float> gradient)
        {
            var bits = moment.AsInt32();
            var sign = bits & Vector256.Create(int.MinValue);
            var units = Subnormal.RoundedProduct(bits & Vector256.Create(int.MaxValue), b1);
            var zeroSign = sign & gradient.AsInt32();
            return Vector256.ConditionalSelect(Vector256.Equals(units, Vector256<int>.Zero), zeroSign, units | sign).AsSingle();
        }

        void Plain(long start, long stop)
        {
            for (long i = start; i < stop; i++)
            {
                var gi = decay != 0 ? MathF.FusedMultiplyAdd(w[i], decay, g[i]) : g[i];
                m[i] = MathF.FusedMultiplyAdd(gi, a1, m[i] * b1);
                v[i] = MathF.FusedMultiplyAdd(a2 * gi, gi, v[i] * b2);
                root[i] = v[i] == 0 ? zeroRoot : v[i];
            }
        }
    }

    /// <summary>
    /// w ← w − step·m / (√v / √(1 − β₂ᵗ) + ε), with √v already in <c>root</c>: libtorch's
    /// (exp_avg_sq.sqrt() / c).add_(eps) and param.addcdiv_(exp_avg, denom, value: −step).
    /// </summary>
    /// <remarks>
    /// −step·m falls below float's normal range for first moments below about 2⁻¹²⁵ / step (2⁻¹¹⁵ at a rate of 10⁻³),
    /// and each such product is a microcode assist (0.19 ms for this pass after two epochs of LeNet, where 0.02
    /// would do). For those the product is taken in units of 2⁻¹⁴⁹ by integer arithmetic, rounded as the
    /// multiplication rounds, and divided as a whole number: a quotient of 2⁻¹²⁶ or more is scaled back exactly and
    /// added; a smaller one is less than half a unit in the last place of any weight of 2⁻¹⁰⁰ or more, which it
    /// therefore leaves as it is. Smaller weights take the plain arithmetic.
    /// </remarks>
    readonly unsafe struct Weights(float* w, float* m, float* root, float correction, float eps, float negativeStep)
    {
        static readonly float NegligibleBelowWeight = MathF.ScaleB(1f, -100);
        // 2⁻¹⁴⁹ in two normal steps (2⁻¹⁴⁹ itself is below the normal range).
        static readonly float TwoToMinus100 = MathF.ScaleB(1f, -100), TwoToMinus49 = MathF.ScaleB(1f, -49);

        public void Run(long start, long stop)
        {
            // Moments below this give −step·m below the normal range; the integer path needs |step| ≤ 1 (so that the
            // product of any moment below it is under 2²⁴ units).
            bool byIntegers = Avx.IsSupported && Math.Abs(negativeStep) <= 1f;
            var small = Vector256.Create(byIntegers ? (float)(Subnormal.Tiny / Math.Abs((double)negativeStep)) : 0f);
            long i = start;
            for (; i + 8 <= stop; i += 8)
            {
                var mi = Vector256.Load(m + i);
                var wi = Vector256.Load(w + i);
                var denominator = Vector256.Load(root + i) / Vector256.Create(correction) + Vector256.Create(eps);
                var smallMoment = Vector256.LessThan(Vector256.Abs(mi), small) & ~Vector256.Equals(mi, Vector256<float>.Zero);
                var safe = Vector256.ConditionalSelect(smallMoment, Vector256<float>.Zero, mi);
                var updated = wi + Vector256.Create(negativeStep) * safe / denominator;
                if (smallMoment != Vector256<float>.Zero)
                {
                    var quotient = Subnormal.ProductInUnits(mi, negativeStep) / denominator;
                    var normal = Vector256.GreaterThanOrEqual(Vector256.Abs(quotient), Vector256.Create(Subnormal.UnitsOfSmallestNormal));
                    // A quotient below the normal range leaves a weight of 2⁻¹⁰⁰ or more as it is; a smaller weight (or 0) cannot be told here.
                    if ((smallMoment & ~normal & Vector256.LessThan(Vector256.Abs(wi), Vector256.Create(NegligibleBelowWeight))) != Vector256<float>.Zero)
                    {
                        Plain(i, i + 8);
                        continue;
                    }
                    var scaled = Vector256.ConditionalSelect(normal, quotient, Vector256<float>.Zero) * Vector256.Create(TwoToMinus100) * Vector256.Create(TwoToMinus49);
                    updated = Vector256.ConditionalSelect(smallMoment, wi + scaled, updated);
                }
                updated.Store(w + i);
            }
            Plain(i, stop);
        }

        void Plain(long start, long stop)
        {
            for (long i = start; i < stop; i++)
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
