using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// The maximum of each 2×2 window (every 2 pixels, no padding) and where it lies, as max_pool2d_with_indices finds
/// them: the first maximum in row order, and a NaN wins (the last NaN if several); and the gradient sent back to
/// those places (<see cref="WindowMaxPool"/> is the autograd operation made of the two).
/// </summary>
/// <remarks>
/// Training needs the positions (the backward pass sends each window's gradient to its maximum). libtorch's
/// kernel for [N, C, H, W] is scalar and its channels-last one needs each plane transposed there and back:
/// LeNet's first pool at batch 64 (64 × 6 planes of 28×28) took 0.85 ms forward with gradients, a tenth of a
/// training step. Loops written for the 2×2 window, the pool of LeNet, VGG and U-Net, find the maxima and write the
/// gradient back without moving the planes, eight windows at a time. Measured on that pool (200 calls, medians):
/// forward 0.85 → 0.39 ms, forward and backward 1.51 → 1.00 ms with the values gathered at the positions and the
/// gradient through gather's backward; 0.93 → 0.77 ms as one operation (8 alternating rounds in one process).
/// A batch that arrives channels-last (a oneDNN convolution's output in the written-out training step) is pooled
/// where it lies, eight channels at a time, instead of being reordered first (<see cref="OfChannelsLast"/>).
/// </remarks>
internal static unsafe class WindowArgmax
{
    /// <summary>
    /// For contiguous float32 CPU <paramref name="planes"/> [P, H, W]: each 2×2 window's maximum, [P, OH, OW], and
    /// its place within the window, [P, OH·OW] bytes (0 top left, 1 top right, 2 bottom left, 3 bottom right: a byte
    /// where max_pool2d keeps the position in the plane as 8, a quarter of the pool's memory traffic each way); with
    /// <paramref name="relu"/>, of the planes' relu (as libtorch's relu gives it: x &lt; 0 ? 0 : x, so NaN and −0
    /// stay), taken as each value is read.
    /// </summary>
    public static (Tensor Values, Tensor Indices) Of(Tensor planes, bool relu = false)
    {
        if (planes.dim() != 3 || planes.dtype != ScalarType.Float32)
            throw new ArgumentException($"window maxima are found in [planes, height, width] float32 tensors, not {planes.dtype} [{string.Join(", ", planes.shape)}].");
        long count = planes.size(0), h = planes.size(1), w = planes.size(2);
        long oh = h / 2, ow = w / 2;
        var values = empty(count, oh, ow);
        var indices = empty(count, oh * ow, dtype: ScalarType.Byte);
        var pass = new Pass((float*)TensorAddress.Of(planes), (float*)TensorAddress.Of(values), (byte*)TensorAddress.Of(indices), count, h, w, relu);
        // On libtorch's own OpenMP threads: a .NET thread on the other core competed with libtorch's worker spinning
        // there, and made the pool slower, not faster (fwd+bwd 1.19 ms against 1.00).
        OpenMpTeam.Run(&RunPass, &pass, OpenMpTeam.ThreadsFor(count * h * w, ElementsPerThread));
        return (values, indices);
    }

    // Input elements per thread of libtorch's team (fewer: the calling thread alone).
    const long ElementsPerThread = 1 << 15;

    /// <summary>A pass that libtorch's team shares out: <see cref="Count"/> items (planes, or rows of windows), each member a run of them.</summary>
    interface ISharedPass
    {
        long Count { get; }
        void Run(long first, long end);
    }

    /// <summary>This team member's share of <paramref name="pass"/>.</summary>
    static void RunShare<T>(T* pass) where T : unmanaged, ISharedPass
    {
        var (first, end, _) = OpenMpTeam.Share(pass->Count);
        pass->Run(first, end);
    }

    // GOMP_parallel's entry points, one per pass (a function it calls cannot be generic).
    [UnmanagedCallersOnly] static void RunPass(void* data) => RunShare((Pass*)data);
    [UnmanagedCallersOnly] static void RunGradientPass(void* data) => RunShare((GradientPass*)data);
    [UnmanagedCallersOnly] static void RunChannelsLastPass(void* data) => RunShare((ChannelsLastPass*)data);
    [UnmanagedCallersOnly] static void RunChannelsLastGradientPass(void* data) => RunShare((ChannelsLastGradientPass*)data);

    /// <summary>
    /// The gradient of the planes [P, H, W] from the gradient of their window maxima [P, OH, OW] (contiguous): each
    /// window's gradient added at its maximum's place (as <see cref="Of"/> gives it), zero elsewhere — max_pool2d's
    /// backward, to the bit. Given
    /// the <paramref name="maxima"/> of relu'd planes, also relu's backward (threshold_backward): a window whose
    /// maximum is 0 or below sends +0.
    /// </summary>
    public static Tensor Gradient(Tensor outputGradient, Tensor indices, long h, long w, Tensor? maxima = null)
    {
        long count = indices.size(0);
        // Every position is written by its window, so no zero-filling pass first (a last odd row or column, which
        // belongs to no window, is zeroed by the pass).
        var gradient = empty(count, h, w);
        var pass = new GradientPass((float*)TensorAddress.Of(outputGradient), (byte*)TensorAddress.Of(indices), (float*)TensorAddress.Of(gradient), count, h, w,
            maxima is null ? null : (float*)TensorAddress.Of(maxima));
        OpenMpTeam.Run(&RunGradientPass, &pass, OpenMpTeam.ThreadsFor(count * h * w, ElementsPerThread));
        return gradient;
    }

    /// <summary>
    /// Whether <see cref="OfChannelsLast"/> takes a batch of <paramref name="channels"/> channels: eight at a time, on
    /// a processor with AVX2.
    /// </summary>
    public static bool TakesChannelsLast(long channels) => Avx2.IsSupported && channels % 8 == 0;

    /// <summary>
    /// <see cref="Of"/> for a channels-last batch: <paramref name="pixels"/> [N, H, W, C] (contiguous; C as
    /// <see cref="TakesChannelsLast"/> asks) → each channel's 2×2 window maxima, [N, C, OH, OW] as the layers after a
    /// pool read them (flatten: a view), and their places, bytes [N, OH, OW, C], by the same rule; eight channels at a
    /// time, side by side in memory as they are.
    /// </summary>
    public static (Tensor Values, Tensor Indices) OfChannelsLast(Tensor pixels, bool relu)
    {
        long n = pixels.size(0), h = pixels.size(1), w = pixels.size(2), c = pixels.size(3);
        if (pixels.dim() != 4 || pixels.dtype != ScalarType.Float32 || !TakesChannelsLast(c))
            throw new ArgumentException($"channels-last window maxima need a float32 [N, H, W, C] batch with C a multiple of 8 and AVX2, not {pixels.dtype} [{n}, {h}, {w}, {c}].");
        var values = empty(n, c, h / 2, w / 2);
        var indices = empty([n, h / 2, w / 2, c], dtype: ScalarType.Byte);
        var pass = new ChannelsLastPass((float*)TensorAddress.Of(pixels), (float*)TensorAddress.Of(values), (byte*)TensorAddress.Of(indices), n, h, w, c, relu);
        OpenMpTeam.Run(&RunChannelsLastPass, &pass, OpenMpTeam.ThreadsFor(n * h * w * c, ElementsPerThread));
        return (values, indices);
    }

    /// <summary>
    /// <see cref="Gradient"/> for <see cref="OfChannelsLast"/>'s windows: the gradient of the maxima [N, C, OH, OW]
    /// (contiguous, as are the <paramref name="maxima"/>) → the batch's [N, H, W, C], max_pool2d's backward (and
    /// threshold_backward's, given the maxima) to the bit.
    /// </summary>
    public static Tensor GradientChannelsLast(Tensor outputGradient, Tensor indices, long h, long w, Tensor? maxima = null)
    {
        long n = indices.size(0), c = indices.size(3);
        // No window at all (a side under 2): nothing is sent back.
        if (h < 2 || w < 2) return zeros(n, h, w, c);
        var gradient = empty(n, h, w, c);
        var pass = new ChannelsLastGradientPass((float*)TensorAddress.Of(outputGradient), (byte*)TensorAddress.Of(indices), (float*)TensorAddress.Of(gradient),
            n, h, w, c, maxima is null ? null : (float*)TensorAddress.Of(maxima));
        OpenMpTeam.Run(&RunChannelsLastGradientPass, &pass, OpenMpTeam.ThreadsFor(n * h * w * c, ElementsPerThread));
        return gradient;
    }

    /// <summary>The maxima of channels-last windows, a row of windows (an image's output row) at a time.</summary>
    readonly struct ChannelsLastPass(float* x, float* values, byte* places, long images, long h, long w, long c, bool relu) : ISharedPass
    {
        public long Count { get; } = images * (h / 2);

        /// <summary>Finds the maxima of the output rows [first, end), each row an image's and an output y's.</summary>
        public void Run(long first, long end)
        {
            long oh = h / 2, ow = w / 2, plane = oh * ow;
            var lanes = stackalloc float[8];
            for (long row = first; row < end; row++)
            {
                long image = row / oh, oy = row % oh;
                var upper = x + (image * h + 2 * oy) * w * c;
                var lower = upper + w * c;
                for (long ox = 0; ox < ow; ox++)
                {
                    for (long k = 0; k < c; k += 8)
                    {
                        long left = 2 * ox * c + k, right = left + c;
                        Vector256<float> topLeft = Avx.LoadVector256(upper + left), topRight = Avx.LoadVector256(upper + right);
                        Vector256<float> bottomLeft = Avx.LoadVector256(lower + left), bottomRight = Avx.LoadVector256(lower + right);
                        if (relu)
                        {
                            (topLeft, topRight) = (Pass.Rectified(topLeft), Pass.Rectified(topRight));
                            (bottomLeft, bottomRight) = (Pass.Rectified(bottomLeft), Pass.Rectified(bottomRight));
                        }
                        // libtorch's order: the window's places 0 to 3 in row order.
                        var max = Vector256.Create(float.NegativeInfinity);
                        var place = Vector256<int>.Zero;
                        Pass.Take(topLeft, 0, ref max, ref place);
                        Pass.Take(topRight, 1, ref max, ref place);
                        Pass.Take(bottomLeft, 2, ref max, ref place);
                        Pass.Take(bottomRight, 3, ref max, ref place);
                        long at = (row * ow + ox) * c + k;
                        // The eight channels' maxima go to eight planes.
                        max.Store(lanes);
                        var into = values + (image * c + k) * plane + oy * ow + ox;
                        for (int lane = 0; lane < 8; lane++) into[lane * plane] = lanes[lane];
                        var bytes = Vector256.Narrow(Vector256.Narrow(place, Vector256<int>.Zero), Vector256<short>.Zero);
                        *(ulong*)(places + at) = bytes.AsUInt64().GetElement(0);
                    }
                }
            }
        }
    }

    /// <summary>The gradient of channels-last windows, a row of windows (and the input rows under it) at a time.</summary>
    readonly struct ChannelsLastGradientPass(float* from, byte* places, float* into, long images, long h, long w, long c, float* maxima) : ISharedPass
    {
        public long Count { get; } = images * (h / 2);

        /// <summary>Writes the input rows under the output rows [first, end) (and an odd last row, with its image's last window row).</summary>
        public void Run(long first, long end)
        {
            long oh = h / 2, ow = w / 2, plane = oh * ow;
            // The eight channels' values lie a plane apart.
            var planes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * Vector256.Create((int)plane);
            for (long row = first; row < end; row++)
            {
                long image = row / oh, oy = row % oh;
                var upper = into + (image * h + 2 * oy) * w * c;
                var lower = upper + w * c;
                for (long ox = 0; ox < ow; ox++)
                {
                    for (long k = 0; k < c; k += 8)
                    {
                        long at = (row * ow + ox) * c + k, window = (image * c + k) * plane + oy * ow + ox;
                        var place = Avx2.ConvertToVector256Int32(places + at);
                        // Written as libtorch adds it to zero: a gradient of −0 lands as +0.
                        var g = Avx2.GatherVector256(from + window, planes, 4) + Vector256<float>.Zero;
                        if (maxima is not null)
                            g = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(Avx2.GatherVector256(maxima + window, planes, 4), Vector256<float>.Zero), Vector256<float>.Zero, g);
                        long left = 2 * ox * c + k, right = left + c;
                        Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(0)).AsSingle(), g, Vector256<float>.Zero).Store(upper + left);
                        Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(1)).AsSingle(), g, Vector256<float>.Zero).Store(upper + right);
                        Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(2)).AsSingle(), g, Vector256<float>.Zero).Store(lower + left);
                        Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(3)).AsSingle(), g, Vector256<float>.Zero).Store(lower + right);
                    }
                }
                // A last odd column and row belong to no window: their gradient is 0.
                if (w % 2 == 1)
                {
                    new Span<float>(upper + (w - 1) * c, (int)c).Clear();
                    new Span<float>(lower + (w - 1) * c, (int)c).Clear();
                }
                if (h % 2 == 1 && oy == oh - 1) new Span<float>(lower + w * c, (int)(w * c)).Clear();
            }
        }
    }

    readonly struct GradientPass(float* from, byte* places, float* into, long count, long h, long w, float* maxima) : ISharedPass
    {
        public long Count { get; } = count;

        /// <summary>Writes the gradient of the planes [firstPlane, endPlane).</summary>
        public void Run(long firstPlane, long endPlane)
        {
            long oh = h / 2, ow = w / 2;
            for (long p = firstPlane; p < endPlane; p++)
            {
                for (long oy = 0; oy < oh; oy++)
                {
                    long top = 2 * oy * w, window = (p * oh + oy) * ow;
                    var upper = into + p * h * w + top;
                    // Rows of fewer than eight windows go eight at a time too where the lanes past the row's end, read
                    // from the rows after it and written over them, stay in this thread's planes: those rows are
                    // written again, rightly, when their turn comes.
                    bool roomForEight = window + 8 <= endPlane * oh * ow && top + w + 16 <= (endPlane - p) * h * w;
                    long ox = Avx2.IsSupported ? EightAtATime(from + window, places + window, maxima is null ? null : maxima + window, upper, ow, roomForEight) : 0;
                    for (; ox < ow; ox++)
                    {
                        // Windows do not overlap, so each position takes one gradient at most: written as libtorch adds
                        // it to zero (a gradient of −0 lands as +0).
                        var place = places[window + ox];
                        var g = from[window + ox] + 0f;
                        if (maxima is not null && maxima[window + ox] <= 0) g = 0f; // NaN passes, as in threshold_backward
                        upper[2 * ox] = place == 0 ? g : 0f;
                        upper[2 * ox + 1] = place == 1 ? g : 0f;
                        upper[w + 2 * ox] = place == 2 ? g : 0f;
                        upper[w + 2 * ox + 1] = place == 3 ? g : 0f;
                    }
                    if (w % 2 == 1) upper[w - 1] = upper[2 * w - 1] = 0f;
                }
                if (h % 2 == 1) new Span<float>(into + p * h * w + (h - 1) * w, (int)w).Clear();
            }
        }

        /// <summary>Eight windows at a time, each one's four positions written (the gradient at its maximum, zeros elsewhere).</summary>
        long EightAtATime(float* gradients, byte* places, float* maxima, float* upper, long ow, bool roomForEight)
        {
            if (ow < 8 && !roomForEight) return 0;
            for (long ox = 0; ox < ow; ox += 8)
            {
                ox = Math.Max(0, Math.Min(ox, ow - 8));
                // Each maximum's place within its window: 0, 1, 2 or 3.
                var place = Avx2.ConvertToVector256Int32(places + ox);
                var g = Avx.LoadVector256(gradients + ox) + Vector256<float>.Zero;
                if (maxima is not null)
                    g = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(Avx.LoadVector256(maxima + ox), Vector256<float>.Zero), Vector256<float>.Zero, g);
                var upperEven = Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(0)).AsSingle(), g, Vector256<float>.Zero);
                var upperOdd = Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(1)).AsSingle(), g, Vector256<float>.Zero);
                var lowerEven = Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(2)).AsSingle(), g, Vector256<float>.Zero);
                var lowerOdd = Vector256.ConditionalSelect(Vector256.Equals(place, Vector256.Create(3)).AsSingle(), g, Vector256<float>.Zero);
                Interleave(upperEven, upperOdd, upper + 2 * ox);
                Interleave(lowerEven, lowerOdd, upper + w + 2 * ox);
            }
            return ow;
        }

        /// <summary>[e0..e7], [o0..o7] stored as e0, o0, e1, o1, …, e7, o7.</summary>
        static void Interleave(Vector256<float> even, Vector256<float> odd, float* to)
        {
            // Unpack works within 128-bit halves ([e0, o0, e1, o1 | e4, o4, e5, o5]); the permutes put the halves in order.
            var low = Avx.UnpackLow(even, odd);
            var high = Avx.UnpackHigh(even, odd);
            Avx.Store(to, Avx.Permute2x128(low, high, 0x20));
            Avx.Store(to + 8, Avx.Permute2x128(low, high, 0x31));
        }
    }

    readonly struct Pass(float* x, float* values, byte* places, long count, long h, long w, bool relu) : ISharedPass
    {
        public long Count { get; } = count;

        /// <summary>Finds the window maxima of the planes [firstPlane, endPlane).</summary>
        public void Run(long firstPlane, long endPlane)
        {
            long oh = h / 2, ow = w / 2;
            for (long p = firstPlane; p < endPlane; p++)
            {
                var output = places + p * oh * ow;
                var maxima = values + p * oh * ow;
                for (long oy = 0; oy < oh; oy++)
                {
                    long top = 2 * oy * w;
                    var upper = x + p * h * w + top;
                    // As in the gradient's pass: short rows eight at a time where the extra lanes stay in this thread's planes.
                    bool roomForEight = (p * oh + oy) * ow + 8 <= endPlane * oh * ow && top + w + 16 <= (endPlane - p) * h * w;
                    bool roomForSixteen = (p * oh + oy) * ow + 16 <= endPlane * oh * ow && top + w + 32 <= (endPlane - p) * h * w;
                    long ox = Avx512F.IsSupported && ow <= 16 && roomForSixteen
                        ? SixteenAtATime(upper, upper + w, output + oy * ow, maxima + oy * ow, ow)
                        : Avx2.IsSupported ? EightAtATime(upper, upper + w, ow, output + oy * ow, maxima + oy * ow, roomForEight) : 0;
                    for (; ox < ow; ox++)
                    {
                        // libtorch's rule, kept exactly: start below every number at the window's first place,
                        // then take each value above the maximum so far, or NaN.
                        byte best = 0;
                        var max = float.NegativeInfinity;
                        Take(Read(upper[2 * ox]), 0, ref max, ref best);
                        Take(Read(upper[2 * ox + 1]), 1, ref max, ref best);
                        Take(Read(upper[w + 2 * ox]), 2, ref max, ref best);
                        Take(Read(upper[w + 2 * ox + 1]), 3, ref max, ref best);
                        output[oy * ow + ox] = best;
                        maxima[oy * ow + ox] = max;
                    }
                }
            }
        }

        // libtorch's relu: max(0, x) as clamp_min computes it, which keeps NaN and −0.
        float Read(float value) => relu && value < 0 ? 0f : value;

        public static Vector256<float> Rectified(Vector256<float> value) =>
            Vector256.ConditionalSelect(Vector256.LessThan(value, Vector256<float>.Zero), Vector256<float>.Zero, value);

        static void Take(float value, byte place, ref float max, ref byte best)
        {
            if (value > max || float.IsNaN(value)) { max = value; best = place; }
        }

        /// <summary>
        /// The same rule for eight windows side by side: their four values split into even and odd columns of the
        /// two rows, taken in libtorch's order. Returns the first window left for the scalar loop (all of a row under eight).
        /// </summary>
        long EightAtATime(float* upper, float* lower, long ow, byte* output, float* maxima, bool roomForEight)
        {
            if (ow < 8 && !roomForEight) return 0;
            for (long ox = 0; ox < ow; ox += 8)
            {
                // The last eight windows of the row, overlapping the eight before when the row is not a whole number of
                // eights; a row of fewer than eight, once from its start (the lanes past its end are the next rows').
                ox = Math.Max(0, Math.Min(ox, ow - 8));
                var (upperEven, upperOdd) = Deinterleave(Avx.LoadVector256(upper + 2 * ox), Avx.LoadVector256(upper + 2 * ox + 8));
                var (lowerEven, lowerOdd) = Deinterleave(Avx.LoadVector256(lower + 2 * ox), Avx.LoadVector256(lower + 2 * ox + 8));
                if (relu)
                {
                    (upperEven, upperOdd) = (Rectified(upperEven), Rectified(upperOdd));
                    (lowerEven, lowerOdd) = (Rectified(lowerEven), Rectified(lowerOdd));
                }
                var max = Vector256.Create(float.NegativeInfinity);
                var place = Vector256<int>.Zero;
                Take(upperEven, 0, ref max, ref place);
                Take(upperOdd, 1, ref max, ref place);
                Take(lowerEven, 2, ref max, ref place);
                Take(lowerOdd, 3, ref max, ref place);
                max.Store(maxima + ox);
                // The eight places, each under 4, narrowed to bytes in order.
                var bytes = Vector256.Narrow(Vector256.Narrow(place, Vector256<int>.Zero), Vector256<short>.Zero);
                *(ulong*)(output + ox) = bytes.AsUInt64().GetElement(0);
            }
            return ow;
        }

        /// <summary>
        /// A row of at most sixteen windows at once (LeNet's first pool: fourteen), the lanes past its end read from
        /// the rows after it and written over theirs, which are written again, rightly, when their turn comes.
        /// </summary>
        long SixteenAtATime(float* upper, float* lower, byte* output, float* maxima, long ow)
        {
            var (max, place) = Sixteen(Vector512.Load(upper), Vector512.Load(upper + 16), Vector512.Load(lower), Vector512.Load(lower + 16), ConsecutiveWindows, relu);
            max.Store(maxima);
            Avx512F.ConvertToVector128Byte(place).Store(output);
            return ow;
        }

        public static void Take(Vector256<float> value, int offset, ref Vector256<float> max, ref Vector256<int> best)
        {
            var wins = Avx.Or(Avx.CompareGreaterThan(value, max), Avx.CompareUnordered(value, value));
            max = Avx.BlendVariable(max, value, wins);
            best = Avx.BlendVariable(best.AsSingle(), Vector256.Create(offset).AsSingle(), wins).AsInt32();
        }

        /// <summary>[a0..a7], [b0..b7] → [a0, a2, a4, a6, b0, b2, b4, b6], [a1, a3, …, b7].</summary>
        static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> a, Vector256<float> b)
        {
            // Shuffle works within 128-bit halves ([a0, a2, b0, b2 | a4, a6, b4, b6]); the permute puts the halves in order.
            var even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
            var odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
            return (even, odd);
        }
    }

    // Window i's left column at 2i of the 32 floats that two vectors of a row hold.
    static readonly Vector512<int> ConsecutiveWindows = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>
    /// Sixteen 2×2 windows by <see cref="Of"/>'s rule, from two rows' pixels, sixteen in each of two vectors a row:
    /// window i's left column at lane <paramref name="left"/>[i] of a row's pair (0–15 the first vector, 16–31 the
    /// second), its right column the lane after. Their maxima (of the relu'd pixels, with <paramref name="relu"/>) and places 0–3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // in the convolution's pass, a call would make the JIT keep its sums on the stack
    internal static (Vector512<float> Max, Vector512<int> Place) Sixteen(Vector512<float> upperFirst, Vector512<float> upperSecond,
        Vector512<float> lowerFirst, Vector512<float> lowerSecond, Vector512<int> left, bool relu)
    {
        var right = left + Vector512<int>.One;
        var topLeft = Avx512F.PermuteVar16x32x2(upperFirst, left, upperSecond);
        var topRight = Avx512F.PermuteVar16x32x2(upperFirst, right, upperSecond);
        var bottomLeft = Avx512F.PermuteVar16x32x2(lowerFirst, left, lowerSecond);
        var bottomRight = Avx512F.PermuteVar16x32x2(lowerFirst, right, lowerSecond);
        if (relu)
        {
            (topLeft, topRight) = (Rectified(topLeft), Rectified(topRight));
            (bottomLeft, bottomRight) = (Rectified(bottomLeft), Rectified(bottomRight));
        }
        var max = Vector512.Create(float.NegativeInfinity);
        var place = Vector512<int>.Zero;
        Take(topLeft, 0, ref max, ref place);
        Take(topRight, 1, ref max, ref place);
        Take(bottomLeft, 2, ref max, ref place);
        Take(bottomRight, 3, ref max, ref place);
        return (max, place);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Rectified(Vector512<float> value) =>
            Vector512.ConditionalSelect(Vector512.LessThan(value, Vector512<float>.Zero), Vector512<float>.Zero, value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Take(Vector512<float> value, int offset, ref Vector512<float> max, ref Vector512<int> best)
        {
            var wins = Vector512.GreaterThan(value, max) | ~Vector512.Equals(value, value);
            max = Vector512.ConditionalSelect(wins, value, max);
            best = Vector512.ConditionalSelect(wins.AsInt32(), Vector512.Create(offset), best);
        }
    }
}
