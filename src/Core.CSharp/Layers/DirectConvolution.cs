using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// Stride-1 convolutions of up to 4 input channels and 5×5 kernels on rows of 16 pixels or more, computed where
/// the pixels lie: sixteen neighbouring outputs of a row in one AVX-512 register, every tap a fused multiply-add,
/// on libtorch's OpenMP threads (<see cref="OpenMpTeam"/>).
/// </summary>
/// <remarks>
/// The first convolution of a grayscale network (LeNet's 1 → 6 channels, 5×5, on 28×28) is where libtorch's oneDNN
/// kernels do worst: they block over channels, and one input channel leaves their registers mostly empty. At batch
/// 64 on this repository's machine (2 threads) they took 0.78 ms forward and 1.1 ms for the weights' gradient,
/// 15 MFLOP each. Along the rows the registers are full whatever the channel count: 0.42 and 0.52 ms here, and a
/// LeNet-like forward and backward pass 9.3 → 8.5, 7.3 → 6.8 and 6.4 → 6.1 ms in three sittings (medians of 10
/// alternating rounds in one process each; the machine's speed moved between them). Sums are
/// taken in another order than oneDNN's, so outputs and gradients differ from libtorch's in the last bits (tested
/// within 1e-6 of the magnitudes each value sums).
/// </remarks>
internal static unsafe class DirectConvolution
{
    const int Lanes = 16;
    // Output channels computed together: each tap's sixteen inputs are loaded once for all of them. Eight, or six where
    // the channels come in sixes (LeNet's first convolution: with eight, a quarter of the multiply-adds were for channels
    // that do not exist).
    static int ChannelsPerPass(long channels) => channels % 8 != 0 && channels % 6 == 0 ? 6 : 8;
    // Output channels a pass of ForwardPooled computes: its 24 sums (two rows of two runs each) fill the registers.
    const int PooledChannelsPerPass = 6;
    // The weights' gradient keeps 5 taps × 4 channels of sums in registers: kernels up to 5×5.
    const int KernelLimit = 5;
    const int InputChannelLimit = 4;

    /// <summary>Whether this path computes conv2d(<paramref name="input"/>, <paramref name="weight"/>) with these settings.</summary>
    public static bool Handles(Tensor input, Tensor weight, long stride, long padding, long dilation, long groups)
    {
        if (!Avx512F.IsSupported || stride != 1 || dilation != 1 || groups != 1) return false;
        if (input.dim() != 4 || weight.dim() != 4 || input.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32) return false;
        if (input.device_type != TorchSharp.DeviceType.CPU || weight.device_type != TorchSharp.DeviceType.CPU) return false;
        long kernel = weight.size(2);
        if (weight.size(3) != kernel || kernel > KernelLimit || weight.size(1) != input.size(1) || input.size(1) > InputChannelLimit) return false;
        long outputWidth = input.size(3) + 2 * padding - kernel + 1, outputHeight = input.size(2) + 2 * padding - kernel + 1;
        return outputWidth >= Lanes && outputHeight >= 1;
    }


    /// <summary>Where each run of sixteen outputs starts along a row: every 16, the last flush with the row's end.</summary>
    static long[] RowStarts(long width)
    {
        var starts = new List<long>();
        for (long x = 0; x + Lanes <= width; x += Lanes) starts.Add(x);
        if (width % Lanes != 0) starts.Add(width - Lanes);
        return [.. starts];
    }

    /// <summary>
    /// conv2d(input, weight, bias, padding) for [N, C, H, W] input and [O, C, K, K] weight; with
    /// <paramref name="relu"/>, relu of it, taken as each output is stored (libtorch's relu to the bit: max(0, x),
    /// with x itself for NaN and −0). Also the padded input, which the weights' gradient reads.
    /// </summary>
    public static (Tensor Output, Tensor Padded) Forward(Tensor input, Tensor weight, Tensor? bias, long padding, bool relu = false)
    {
        var (output, _, padded) = Convolve(input, weight, bias, padding, relu, pooled: false);
        return (output, padded);
    }

    /// <summary>Whether <see cref="HandlesPooled"/> may take a stride-1 convolution with this [O, C, K, K] weight (on inputs of the right size).</summary>
    public static bool MayPool(Tensor weight) =>
        Avx512BW.VL.IsSupported && weight.dim() == 4 && weight.size(0) % PooledChannelsPerPass == 0 && weight.size(1) <= InputChannelLimit
        && weight.size(2) == weight.size(3) && weight.size(2) <= KernelLimit;

    /// <summary>
    /// Whether <see cref="ForwardPooled"/> takes a convolution that <see cref="Handles"/> takes (the caller has asked
    /// that, once): output channels in sixes, an even output of at most 32 columns (a row's windows in one vector), on
    /// a processor with AVX-512 BW (for the pass's masked stores).
    /// </summary>
    public static bool HandlesPooled(Tensor input, Tensor weight, long padding)
    {
        if (!MayPool(weight)) return false;
        long k = weight.size(2), oh = input.size(2) + 2 * padding - k + 1, ow = input.size(3) + 2 * padding - k + 1;
        return oh % 2 == 0 && ow % 2 == 0 && ow <= 2 * Lanes;
    }

    /// <summary>
    /// max_pool2d(relu(conv2d(input, weight, bias, padding)), 2) for the convolutions <see cref="HandlesPooled"/>
    /// takes, each window found as its sums leave the registers (the convolution's output is never stored): the maxima
    /// [N, O, OH/2, OW/2] and their places as <see cref="WindowArgmax.Of"/> gives them ([N·O, OH/2·OW/2] bytes), to the
    /// bit what <see cref="Forward"/> with its ReLU and then <see cref="WindowMaxPool"/> give. Also the padded input.
    /// </summary>
    public static (Tensor Values, Tensor Places, Tensor Padded) ForwardPooled(Tensor input, Tensor weight, Tensor? bias, long padding)
    {
        var (values, places, padded) = Convolve(input, weight, bias, padding, relu: true, pooled: true);
        return (values, places!, padded);
    }

    static (Tensor Output, Tensor? Places, Tensor Padded) Convolve(Tensor input, Tensor weight, Tensor? bias, long padding, bool relu, bool pooled)
    {
        long n = input.size(0), c = input.size(1), o = weight.size(0), k = weight.size(2);
        using var scope = NewDisposeScope();
        long h = input.size(2), w = input.size(3);
        // padding zeros around each plane, and on the right as many more as a kernel narrower than five needs for the
        // weights' gradient, which reads five taps whatever the kernel (the sums of taps past it are dropped). Padded
        // by the pass itself, each thread its own images just before convolving them (a libtorch pad is two passes and
        // a handful of calls); without margins the input is read as it is.
        long right = padding + KernelLimit - k;
        var plain = input.contiguous();
        bool margins = padding > 0 || right > 0;
        var padded = margins ? empty(n, c, h + 2 * padding, w + padding + right) : plain;
        long hp = padded.size(2), wp = padded.size(3), oh = hp - k + 1, ow = w + 2 * padding - k + 1;
        // Weights regrouped [O/G, C, K, K, G] (G channels a pass, zeros past the last), so each tap's G are adjacent: a few
        // hundred floats, copied here rather than by a handful of libtorch operations (each a call and a tensor).
        int group = pooled ? PooledChannelsPerPass : ChannelsPerPass(o);
        long passes = (o + group - 1) / group, taps = c * k * k;
        var grouped = new float[passes * group * taps];
        var biases = new float[passes * group];
        var weights = (float*)TensorAddress.Of(weight.contiguous());
        for (long channel = 0; channel < o; channel++)
            for (long tap = 0; tap < taps; tap++)
                grouped[((channel / group) * taps + tap) * group + channel % group] = weights[channel * taps + tap];
        if (bias is not null)
        {
            var values = (float*)TensorAddress.Of(bias.contiguous());
            for (long channel = 0; channel < o; channel++) biases[channel] = values[channel];
        }
        var output = pooled ? empty(n, o, oh / 2, ow / 2) : empty(n, o, oh, ow);
        var places = pooled ? empty([n * o, oh / 2 * (ow / 2)], dtype: ScalarType.Byte) : null;
        var starts = RowStarts(ow);
        fixed (long* at = starts)
        fixed (float* groupedAt = grouped, biasesAt = biases)
        {
            var job = new ForwardJob(new ForwardPass((float*)TensorAddress.Of(padded), groupedAt,
                biasesAt, (float*)TensorAddress.Of(output), c, o, k, hp, wp, oh, ow, relu,
                margins ? (float*)TensorAddress.Of(plain) : null, h, w, padding,
                places is null ? null : (byte*)TensorAddress.Of(places)), at, starts.Length, n);
            OpenMpTeam.Run(&RunForward, &job, get_num_threads());
        }
        return (output.MoveToOuterDisposeScope(), places?.MoveToOuterDisposeScope(), padded.MoveToOuterDisposeScope());
    }

    readonly struct ForwardJob(ForwardPass pass, long* starts, int startCount, long images)
    {
        public readonly ForwardPass Pass = pass;
        public readonly long* Starts = starts;
        public readonly int StartCount = startCount;
        public readonly long Images = images;
    }

    [UnmanagedCallersOnly]
    static void RunForward(void* data)
    {
        var job = (ForwardJob*)data;
        var (first, end, _) = OpenMpTeam.Share(job->Images);
        if (job->Pass.Pools) job->Pass.RunPooled(job->Starts[0], job->Starts[job->StartCount - 1], first, end);
        else if (job->Pass.Group == 6) job->Pass.Run<Six>(job->Starts, job->StartCount, first, end);
        else job->Pass.Run<Eight>(job->Starts, job->StartCount, first, end);
    }

    /// <summary>A number of output channels computed together, known to the JIT: each size is compiled as its own loop, without the sums past it.</summary>
    interface IChannelGroup { static abstract int Size { get; } }
    readonly struct Eight : IChannelGroup { public static int Size => 8; }
    readonly struct Six : IChannelGroup { public static int Size => 6; }
    readonly struct Four : IChannelGroup { public static int Size => 4; }
    readonly struct Three : IChannelGroup { public static int Size => 3; }

    readonly struct ForwardPass(float* x, float* w, float* b, float* y, long c, long o, long k, long hp, long wp, long oh, long ow, bool relu,
        float* source, long h, long width, long margin, byte* places)
    {
        /// <summary>The output channels computed together (<see cref="ChannelsPerPass"/>).</summary>
        public int Group => ChannelsPerPass(o);

        /// <summary>Whether the output is pooled as it is computed (<see cref="RunPooled"/>): then <c>y</c> takes the maxima.</summary>
        public bool Pools => places is not null;

        /// <summary>The image's planes from <c>source</c> into <c>x</c>, with zeros around them (when there is a source to pad).</summary>
        void Pad(long image)
        {
            if (source is null) return;
            for (long ci = 0; ci < c; ci++)
            {
                var to = x + (image * c + ci) * hp * wp;
                var from = source + (image * c + ci) * h * width;
                new Span<float>(to, (int)(margin * wp + margin)).Clear();
                for (long row = 0; row < h; row++)
                {
                    var line = to + (margin + row) * wp + margin;
                    new ReadOnlySpan<float>(from + row * width, (int)width).CopyTo(new Span<float>(line, (int)width));
                    // The row's right margin and the next row's left one, adjacent in memory.
                    long gap = row + 1 < h ? wp - width : wp - width - margin;
                    new Span<float>(line + width, (int)gap).Clear();
                }
                long written = (margin + h) * wp;
                new Span<float>(to + written, (int)(hp * wp - written)).Clear();
            }
        }

        /// <summary>
        /// The images [first, end) convolved six channels and two rows at a time (24 sums in registers), each pair of
        /// rows ReLU'd and 2×2 max-pooled as it leaves the registers (<see cref="WindowArgmax.Sixteen"/>): maxima into
        /// <c>y</c> and places into <c>places</c>. <paramref name="xa"/> and <paramref name="xb"/> are a row's two runs
        /// of sixteen (the same run twice for a row of sixteen). Each sum adds its taps in <see cref="Run{TGroup}"/>'s order.
        /// </summary>
        public void RunPooled(long xa, long xb, long firstImage, long endImage)
        {
            const int group = PooledChannelsPerPass;
            long passes = o / group, ph = oh / 2, pw = ow / 2;
            // Window i's left column: 2i of the first run while it lies there, else the same column of the second (16 on).
            // Kept in memory and read after each row's sums: the 24 sums, 4 inputs and a weight leave no register free.
            var left = stackalloc int[Lanes];
            for (int i = 0; i < Lanes; i++)
            {
                long column = 2 * Math.Min(i, pw - 1);
                left[i] = (int)(column + 1 < Lanes ? column : Lanes + xa + column - xb);
            }
            float* maxima = y; byte* placed = places; // locals: the store below may not read the struct's own fields
            for (long image = firstImage; image < endImage; image++)
            {
                Pad(image);
                for (long p = 0; p < passes; p++)
                {
                    var weights = w + p * c * k * k * group;
                    var bias = b + p * group;
                    long firstPlane = image * o + p * group;
                    for (long py = 0; py < ph; py++)
                    {
                        var u0a = Vector512.Create(bias[0]); var u0b = u0a; var l0a = u0a; var l0b = u0a;
                        var u1a = Vector512.Create(bias[1]); var u1b = u1a; var l1a = u1a; var l1b = u1a;
                        var u2a = Vector512.Create(bias[2]); var u2b = u2a; var l2a = u2a; var l2b = u2a;
                        var u3a = Vector512.Create(bias[3]); var u3b = u3a; var l3a = u3a; var l3b = u3a;
                        var u4a = Vector512.Create(bias[4]); var u4b = u4a; var l4a = u4a; var l4b = u4a;
                        var u5a = Vector512.Create(bias[5]); var u5b = u5a; var l5a = u5a; var l5b = u5a;
                        var tap = weights;
                        for (long ci = 0; ci < c; ci++)
                            for (long ky = 0; ky < k; ky++)
                            {
                                var upper = x + ((image * c + ci) * hp + 2 * py + ky) * wp;
                                var lower = upper + wp;
                                for (long kx = 0; kx < k; kx++, tap += group)
                                {
                                    var ua = Vector512.Load(upper + xa + kx); var ub = Vector512.Load(upper + xb + kx);
                                    var la = Vector512.Load(lower + xa + kx); var lb = Vector512.Load(lower + xb + kx);
                                    var w0 = Vector512.Create(tap[0]);
                                    u0a = Avx512F.FusedMultiplyAdd(ua, w0, u0a); u0b = Avx512F.FusedMultiplyAdd(ub, w0, u0b);
                                    l0a = Avx512F.FusedMultiplyAdd(la, w0, l0a); l0b = Avx512F.FusedMultiplyAdd(lb, w0, l0b);
                                    var w1 = Vector512.Create(tap[1]);
                                    u1a = Avx512F.FusedMultiplyAdd(ua, w1, u1a); u1b = Avx512F.FusedMultiplyAdd(ub, w1, u1b);
                                    l1a = Avx512F.FusedMultiplyAdd(la, w1, l1a); l1b = Avx512F.FusedMultiplyAdd(lb, w1, l1b);
                                    var w2 = Vector512.Create(tap[2]);
                                    u2a = Avx512F.FusedMultiplyAdd(ua, w2, u2a); u2b = Avx512F.FusedMultiplyAdd(ub, w2, u2b);
                                    l2a = Avx512F.FusedMultiplyAdd(la, w2, l2a); l2b = Avx512F.FusedMultiplyAdd(lb, w2, l2b);
                                    var w3 = Vector512.Create(tap[3]);
                                    u3a = Avx512F.FusedMultiplyAdd(ua, w3, u3a); u3b = Avx512F.FusedMultiplyAdd(ub, w3, u3b);
                                    l3a = Avx512F.FusedMultiplyAdd(la, w3, l3a); l3b = Avx512F.FusedMultiplyAdd(lb, w3, l3b);
                                    var w4 = Vector512.Create(tap[4]);
                                    u4a = Avx512F.FusedMultiplyAdd(ua, w4, u4a); u4b = Avx512F.FusedMultiplyAdd(ub, w4, u4b);
                                    l4a = Avx512F.FusedMultiplyAdd(la, w4, l4a); l4b = Avx512F.FusedMultiplyAdd(lb, w4, l4b);
                                    var w5 = Vector512.Create(tap[5]);
                                    u5a = Avx512F.FusedMultiplyAdd(ua, w5, u5a); u5b = Avx512F.FusedMultiplyAdd(ub, w5, u5b);
                                    l5a = Avx512F.FusedMultiplyAdd(la, w5, l5a); l5b = Avx512F.FusedMultiplyAdd(lb, w5, l5b);
                                }
                            }
                        Pool(u0a, u0b, l0a, l0b, 0);
                        Pool(u1a, u1b, l1a, l1b, 1);
                        Pool(u2a, u2b, l2a, l2b, 2);
                        Pool(u3a, u3b, l3a, l3b, 3);
                        Pool(u4a, u4b, l4a, l4b, 4);
                        Pool(u5a, u5b, l5a, l5b, 5);

                        // Inlined: a call here would make the JIT keep the sums on the stack through the loop.
                        [MethodImpl(MethodImplOptions.AggressiveInlining)]
                        void Pool(Vector512<float> upperA, Vector512<float> upperB, Vector512<float> lowerA, Vector512<float> lowerB, long channel)
                        {
                            var (max, place) = WindowArgmax.Sixteen(upperA, upperB, lowerA, lowerB, Vector512.Load(left), relu: true);
                            long at = ((firstPlane + channel) * ph + py) * pw;
                            // The row's windows only: the lanes past them would land on the next row's, written already.
                            Avx512F.MaskStore(maxima + at, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create((int)pw)).AsSingle(), max);
                            Avx512BW.VL.MaskStore(placed + at, Vector128.LessThan(Vector128<byte>.Indices, Vector128.Create((byte)pw)), Avx512F.ConvertToVector128Byte(place));
                        }
                    }
                }
            }
        }

        public void Run<TGroup>(long* starts, int startCount, long firstImage, long endImage) where TGroup : struct, IChannelGroup
        {
            int group = TGroup.Size;
            long passes = (o + group - 1) / group;
            var rectify = relu; // a local: the store below may not read the struct's own fields
            for (long image = firstImage; image < endImage; image++)
            {
                Pad(image);
                for (long p = 0; p < passes; p++)
                {
                    var weights = w + p * c * k * k * group;
                    var outputs = y + (image * o + p * group) * oh * ow;
                    long valid = Math.Min(group, o - p * group);
                    var bias = b + p * group;
                    for (long row = 0; row < oh; row++)
                        for (int s = 0; s < startCount; s += 2)
                        {
                            // Two runs of sixteen at once (the same run twice when the count is odd).
                            long xa = starts[s], xb = starts[Math.Min(s + 1, startCount - 1)];
                            var a0 = Vector512.Create(bias[0]); var a1 = Vector512.Create(bias[1]);
                            var a2 = Vector512.Create(bias[2]); var a3 = Vector512.Create(bias[3]);
                            var a4 = Vector512.Create(bias[4]); var a5 = Vector512.Create(bias[5]);
                            var a6 = group > 6 ? Vector512.Create(bias[6]) : default; var a7 = group > 6 ? Vector512.Create(bias[7]) : default;
                            var b0 = a0; var b1 = a1; var b2 = a2; var b3 = a3;
                            var b4 = a4; var b5 = a5; var b6 = a6; var b7 = a7;
                            var tap = weights;
                            for (long ci = 0; ci < c; ci++)
                                for (long ky = 0; ky < k; ky++)
                                {
                                    var line = x + ((image * c + ci) * hp + row + ky) * wp;
                                    for (long kx = 0; kx < k; kx++, tap += group)
                                    {
                                        var va = Vector512.Load(line + xa + kx);
                                        var vb = Vector512.Load(line + xb + kx);
                                        var w0 = Vector512.Create(tap[0]); var w1 = Vector512.Create(tap[1]);
                                        var w2 = Vector512.Create(tap[2]); var w3 = Vector512.Create(tap[3]);
                                        a0 = Avx512F.FusedMultiplyAdd(va, w0, a0); b0 = Avx512F.FusedMultiplyAdd(vb, w0, b0);
                                        a1 = Avx512F.FusedMultiplyAdd(va, w1, a1); b1 = Avx512F.FusedMultiplyAdd(vb, w1, b1);
                                        a2 = Avx512F.FusedMultiplyAdd(va, w2, a2); b2 = Avx512F.FusedMultiplyAdd(vb, w2, b2);
                                        a3 = Avx512F.FusedMultiplyAdd(va, w3, a3); b3 = Avx512F.FusedMultiplyAdd(vb, w3, b3);
                                        var w4 = Vector512.Create(tap[4]); var w5 = Vector512.Create(tap[5]);
                                        a4 = Avx512F.FusedMultiplyAdd(va, w4, a4); b4 = Avx512F.FusedMultiplyAdd(vb, w4, b4);
                                        a5 = Avx512F.FusedMultiplyAdd(va, w5, a5); b5 = Avx512F.FusedMultiplyAdd(vb, w5, b5);
                                        if (group > 6)
                                        {
                                            var w6 = Vector512.Create(tap[6]); var w7 = Vector512.Create(tap[7]);
                                            a6 = Avx512F.FusedMultiplyAdd(va, w6, a6); b6 = Avx512F.FusedMultiplyAdd(vb, w6, b6);
                                            a7 = Avx512F.FusedMultiplyAdd(va, w7, a7); b7 = Avx512F.FusedMultiplyAdd(vb, w7, b7);
                                        }
                                    }
                                }
                            var at = outputs + row * ow;
                            long plane = oh * ow;
                            Store(a0, b0, 0); Store(a1, b1, 1); Store(a2, b2, 2); Store(a3, b3, 3);
                            Store(a4, b4, 4); Store(a5, b5, 5);
                            if (group > 6) { Store(a6, b6, 6); Store(a7, b7, 7); }
                            // Inlined: a call here would make the JIT keep the sums on the stack through the loop.
                            [MethodImpl(MethodImplOptions.AggressiveInlining)]
                            void Store(Vector512<float> first, Vector512<float> second, long channel)
                            {
                                if (channel >= valid) return;
                                if (rectify)
                                {
                                    // libtorch's relu is clamp_min's max(0, x), which returns x when x is NaN or −0.
                                    first = Avx512F.Max(Vector512<float>.Zero, first);
                                    second = Avx512F.Max(Vector512<float>.Zero, second);
                                }
                                first.Store(at + channel * plane + xa);
                                second.Store(at + channel * plane + xb);
                            }
                        }
                }
            }
        }
    }

    /// <summary>
    /// The gradients of conv2d's weight, [O, C, K, K], and bias, [O], from its input as <see cref="Forward"/> padded it
    /// and the gradient of its output.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) Gradients(Tensor padded, Tensor outputGradient, long kernel)
    {
        long n = padded.size(0), c = padded.size(1), o = outputGradient.size(1);
        using var scope = NewDisposeScope();
        var gradient = outputGradient.contiguous();
        long hp = padded.size(2), wp = padded.size(3), oh = gradient.size(2), ow = gradient.size(3);
        var starts = RowStarts(ow);
        // Lanes of a run that the run before already covered count once: masked off the later run (all bits set
        // where a lane counts, as floats for the pass's loads).
        var masks = new float[starts.Length * Lanes];
        for (int s = 0; s < starts.Length; s++)
        {
            long covered = s == 0 ? 0 : starts[s - 1] + Lanes;
            for (int lane = 0; lane < Lanes; lane++)
                masks[s * Lanes + lane] = starts[s] + lane >= covered ? BitConverter.Int32BitsToSingle(-1) : 0f;
        }
        // Each thread of the team sums its own images into its own registers' worth of sums per weight and per bias,
        // added up here (a few thousand floats: a loop, not libtorch operations, each a call and a tensor).
        int threads = get_num_threads();
        long perThread = o * c * kernel * KernelLimit * Lanes + o * Lanes;
        var sums = new float[threads * perThread];
        var weightGradient = empty(o, c, kernel, kernel);
        var biasGradient = empty(o);
        fixed (long* at = starts)
        fixed (float* maskAt = masks, sumsAt = sums)
        {
            var job = new WeightJob(new WeightPass((float*)TensorAddress.Of(padded), (float*)TensorAddress.Of(gradient),
                c, o, kernel, hp, wp, oh, ow), at, maskAt, starts.Length, n, sumsAt, perThread);
            OpenMpTeam.Run(&RunWeights, &job, threads);
            var weights = (float*)TensorAddress.Of(weightGradient);
            for (long w = 0; w < o * c * kernel; w++)
                for (long tap = 0; tap < kernel; tap++)
                {
                    float total = 0;
                    for (int t = 0; t < threads; t++)
                        for (int lane = 0; lane < Lanes; lane++)
                            total += sumsAt[t * perThread + (w * KernelLimit + tap) * Lanes + lane];
                    weights[w * kernel + tap] = total;
                }
            var biases = (float*)TensorAddress.Of(biasGradient);
            for (long channel = 0; channel < o; channel++)
            {
                float total = 0;
                for (int t = 0; t < threads; t++)
                    for (int lane = 0; lane < Lanes; lane++)
                        total += sumsAt[t * perThread + o * c * kernel * KernelLimit * Lanes + channel * Lanes + lane];
                biases[channel] = total;
            }
        }
        return (weightGradient.MoveToOuterDisposeScope(), biasGradient.MoveToOuterDisposeScope());
    }

    readonly struct WeightJob(WeightPass pass, long* starts, float* masks, int startCount, long images, float* sums, long sumsPerThread)
    {
        public readonly WeightPass Pass = pass;
        public readonly long* Starts = starts;
        public readonly float* Masks = masks;
        public readonly int StartCount = startCount;
        public readonly long Images = images;
        public readonly float* Sums = sums;
        public readonly long SumsPerThread = sumsPerThread;
    }

    [UnmanagedCallersOnly]
    static void RunWeights(void* data)
    {
        var job = (WeightJob*)data;
        var (first, end, index) = OpenMpTeam.Share(job->Images);
        var sums = job->Sums + index * job->SumsPerThread;
        // Four output channels at a time, or three where they come in threes (LeNet's six: with fours, a quarter of the work was for channels that do not exist).
        if (job->Pass.Channels % 4 != 0 && job->Pass.Channels % 3 == 0) job->Pass.Run<Three>(job->Starts, job->Masks, job->StartCount, first, end, sums);
        else job->Pass.Run<Four>(job->Starts, job->Masks, job->StartCount, first, end, sums);
        job->Pass.BiasSums(first, end, sums + job->SumsPerThread - job->Pass.Channels * Lanes);
    }

    readonly struct WeightPass(float* x, float* g, long c, long o, long k, long hp, long wp, long oh, long ow)
    {
        /// <summary>The output channels.</summary>
        public long Channels => o;

        /// <summary>Adds each output channel's gradients of the images [first, end) into its register of <paramref name="sums"/> (the bias's gradient).</summary>
        public void BiasSums(long firstImage, long endImage, float* sums)
        {
            long plane = oh * ow;
            for (long image = firstImage; image < endImage; image++)
                for (long channel = 0; channel < o; channel++)
                {
                    var values = g + (image * o + channel) * plane;
                    var total = Vector512.Load(sums + channel * Lanes);
                    long i = 0;
                    for (; i + Lanes <= plane; i += Lanes) total += Vector512.Load(values + i);
                    total.Store(sums + channel * Lanes);
                    for (; i < plane; i++) sums[channel * Lanes] += values[i];
                }
        }

        // Four (or three) output channels at a time: each input vector loaded once serves all of them (20 sums in
        // registers). The taps are written out one by one: the JIT keeps named vector locals in registers, not the
        // elements of an array.
        /// <summary>Adds the images [first, end) into <paramref name="sums"/>, one register of sums per weight.</summary>
        public void Run<TGroup>(long* starts, float* masks, int startCount, long firstImage, long endImage, float* sums) where TGroup : struct, IChannelGroup
        {
            int group = TGroup.Size;
            long plane = oh * ow;
            for (long image = firstImage; image < endImage; image++)
                for (long co = 0; co < o; co += group)
                {
                    long valid = Math.Min(group, o - co);
                    var first = g + (image * o + co) * plane;
                    // Channels past the last of a group read the first one's plane; their sums are dropped.
                    float* g0 = first, g1 = valid > 1 ? first + plane : first, g2 = valid > 2 ? first + 2 * plane : first, g3 = valid > 3 ? first + 3 * plane : first;
                    for (long ci = 0; ci < c; ci++)
                        for (long ky = 0; ky < k; ky++)
                        {
                            Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s04 = default;
                            Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default, s14 = default;
                            Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s24 = default;
                            Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default, s34 = default;
                            for (long row = 0; row < oh; row++)
                            {
                                var line = x + ((image * c + ci) * hp + row + ky) * wp;
                                for (int s = 0; s < startCount; s++)
                                {
                                    long at = starts[s], offset = row * ow + at;
                                    var mask = Vector512.Load(masks + s * Lanes);
                                    var d0 = Vector512.BitwiseAnd(Vector512.Load(g0 + offset), mask);
                                    var d1 = Vector512.BitwiseAnd(Vector512.Load(g1 + offset), mask);
                                    var d2 = Vector512.BitwiseAnd(Vector512.Load(g2 + offset), mask);
                                    var d3 = group > 3 ? Vector512.BitwiseAnd(Vector512.Load(g3 + offset), mask) : default;
                                    var input = line + at;
                                    var v = Vector512.Load(input);
                                    s00 = Avx512F.FusedMultiplyAdd(d0, v, s00); s10 = Avx512F.FusedMultiplyAdd(d1, v, s10);
                                    s20 = Avx512F.FusedMultiplyAdd(d2, v, s20); if (group > 3) s30 = Avx512F.FusedMultiplyAdd(d3, v, s30);
                                    {
                                        v = Vector512.Load(input + 1);
                                        s01 = Avx512F.FusedMultiplyAdd(d0, v, s01); s11 = Avx512F.FusedMultiplyAdd(d1, v, s11);
                                        s21 = Avx512F.FusedMultiplyAdd(d2, v, s21); if (group > 3) s31 = Avx512F.FusedMultiplyAdd(d3, v, s31);
                                    }
                                    {
                                        v = Vector512.Load(input + 2);
                                        s02 = Avx512F.FusedMultiplyAdd(d0, v, s02); s12 = Avx512F.FusedMultiplyAdd(d1, v, s12);
                                        s22 = Avx512F.FusedMultiplyAdd(d2, v, s22); if (group > 3) s32 = Avx512F.FusedMultiplyAdd(d3, v, s32);
                                    }
                                    {
                                        v = Vector512.Load(input + 3);
                                        s03 = Avx512F.FusedMultiplyAdd(d0, v, s03); s13 = Avx512F.FusedMultiplyAdd(d1, v, s13);
                                        s23 = Avx512F.FusedMultiplyAdd(d2, v, s23); if (group > 3) s33 = Avx512F.FusedMultiplyAdd(d3, v, s33);
                                    }
                                    {
                                        v = Vector512.Load(input + 4);
                                        s04 = Avx512F.FusedMultiplyAdd(d0, v, s04); s14 = Avx512F.FusedMultiplyAdd(d1, v, s14);
                                        s24 = Avx512F.FusedMultiplyAdd(d2, v, s24); if (group > 3) s34 = Avx512F.FusedMultiplyAdd(d3, v, s34);
                                    }
                                }
                            }
                            long step = c * k * KernelLimit * Lanes;
                            var to = sums + ((co * c + ci) * k + ky) * KernelLimit * Lanes;
                            Add(to, s00, s01, s02, s03, s04);
                            if (valid > 1) Add(to + step, s10, s11, s12, s13, s14);
                            if (valid > 2) Add(to + 2 * step, s20, s21, s22, s23, s24);
                            if (group > 3 && valid > 3) Add(to + 3 * step, s30, s31, s32, s33, s34);

                            // Inlined: a call here would make the JIT keep the sums on the stack through the loop.
                            [MethodImpl(MethodImplOptions.AggressiveInlining)]
                            static void Add(float* to, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, Vector512<float> t4)
                            {
                                (Vector512.Load(to) + t0).Store(to);
                                (Vector512.Load(to + Lanes) + t1).Store(to + Lanes);
                                (Vector512.Load(to + 2 * Lanes) + t2).Store(to + 2 * Lanes);
                                (Vector512.Load(to + 3 * Lanes) + t3).Store(to + 3 * Lanes);
                                (Vector512.Load(to + 4 * Lanes) + t4).Store(to + 4 * Lanes);
                            }
                        }
                }
        }
    }
}
