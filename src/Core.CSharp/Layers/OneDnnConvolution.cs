using NeuralVision.Native;
using NeuralVision.Tensors;
using static NeuralVision.Native.OneDnn;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// conv2d and its two gradients for one input shape on oneDNN primitives made once (Debian's oneDNN, the one
/// <see cref="OneDnn"/> reaches), each in the memory format it chooses, with reorders from and to libtorch's plain
/// tensors around it.
/// </summary>
/// <remarks>
/// libtorch makes its oneDNN primitive descriptors again on every call: LeNet's second convolution (6 → 16
/// channels, 5×5 on 14×14) took 0.31 ms forward and backward at batch 1, against 0.02 ms for the same three
/// primitives made once. At batch 64, in the formats oneDNN picks when asked ("any"), forward took 0.15 ms against
/// libtorch's 0.27, and the weights' gradient on channels-last activations 0.18 ms against 0.50 in the blocked
/// format. Sums are taken in another order than libtorch's where the kernels differ, so results may differ in the
/// last bits (tested within 1e-6 of the magnitudes each value sums); Winograd's transforms round more (within 1e-5).
/// The layer decides where these primitives are used (<see cref="Conv2dModule"/>); the primitives of a shape hold no
/// activation memory: reordered copies are made per call in the caller's dispose scope.
/// </remarks>
internal sealed unsafe class OneDnnConvolution : IDisposable
{
    /// <summary>The input shape [N, C, H, W] the primitives were made for.</summary>
    public long[] InputShape { get; }

    /// <summary>Whether the primitives run Winograd's algorithm (3×3, stride 1, output planes of 8×8 and more, 16 channels or more in and out).</summary>
    public bool Winograd { get; }
    /// <summary>
    /// Whether the primitives write their output and read its gradient in memory laid out as channels-last: acdb,
    /// or oneDNN's blocked aBcd16b with exactly 16 channels (one block: the same bytes). Then <see cref="Forward"/>
    /// can hand its output over channels-last and <see cref="Backward"/> take its gradient so, without reorders.
    /// </summary>
    public bool ChannelsLastOutput { get; }

    // Input channels below which the weights' gradient reads channels-last activations (and below which, in or out,
    // Winograd's algorithm is not used).
    const long FewChannels = 16;

    readonly long[] outputShape, weightShape;
    readonly bool hasBias;
    readonly OneDnnObjects owned;
    readonly IntPtr stream;
    readonly IntPtr forward, backwardData, backwardWeights;
    // Each operand of each primitive: libtorch's plain tensor, and the primitive's own format when it differs.
    readonly Operand source, weights, destination;
    readonly Operand gradientOutputForData, weightsForData, gradientInput;
    readonly Operand sourceForWeights, gradientOutputForWeights, gradientWeights;
    readonly IntPtr biasMemory, gradientBiasMemory;

    OneDnnConvolution(long[] input, long[] weight, bool hasBias, long stride, long padding, long[] right, long dilation, long[] output)
    {
        (InputShape, weightShape, this.hasBias, outputShape) = (input, weight, hasBias, output);
        var (engine, newStream) = CreateEngine();
        stream = newStream;
        owned = new OneDnnObjects(engine);
        try
        {
            var plainInput = owned.Desc(input, TagAbcd);
            var plainWeight = owned.Desc(weight, TagAbcd);
            var plainOutput = owned.Desc(output, TagAbcd);
            var bias = hasBias ? owned.Desc([weight[0]], TagA) : IntPtr.Zero;
            var (anyInput, anyWeight, anyOutput) = (owned.Desc(input, TagAny), owned.Desc(weight, TagAny), owned.Desc(output, TagAny));
            long[] strides = [stride, stride], dilates = [dilation - 1, dilation - 1], left = [padding, padding];
            // With few input channels the weights' gradient reads its activations channels-last: there oneDNN 2.6 has
            // AVX-512 kernels for them, where its blocked format falls back to AVX2 (LeNet's 6 -> 16 convolution at
            // batch 64: 0.18 against 0.50 ms, reorders aside). With many, the blocked format oneDNN picks.
            var (lastInput, lastOutput) = (owned.Desc(input, TagAcdb), owned.Desc(output, TagAcdb));
            (IntPtr Forward, IntPtr Data, IntPtr Weights)? Make(int algorithm)
            {
                IntPtr forwardDesc = owned.Block(OpDescSize), dataDesc = owned.Block(OpDescSize);
                IntPtr WeightsDesc(IntPtr activations, IntPtr outputs)
                {
                    var desc = owned.Block(OpDescSize);
                    fixed (long* s = strides, d = dilates, l = left, r = right)
                        Check(dnnl_dilated_convolution_backward_weights_desc_init(desc, algorithm, activations, anyWeight, bias, outputs, s, d, l, r), "dnnl_dilated_convolution_backward_weights_desc_init");
                    return desc;
                }
                fixed (long* s = strides, d = dilates, l = left, r = right)
                {
                    Check(dnnl_dilated_convolution_forward_desc_init(forwardDesc, ForwardTraining, algorithm, anyInput, anyWeight, bias, anyOutput, s, d, l, r), "dnnl_dilated_convolution_forward_desc_init");
                    Check(dnnl_dilated_convolution_backward_data_desc_init(dataDesc, algorithm, anyInput, anyWeight, anyOutput, s, d, l, r), "dnnl_dilated_convolution_backward_data_desc_init");
                }
                var forwardPd = owned.TryPrimitiveDesc(forwardDesc, IntPtr.Zero);
                if (forwardPd == IntPtr.Zero) return null;
                var dataPd = owned.TryPrimitiveDesc(dataDesc, IntPtr.Zero, forwardPd);
                var weightsPd = input[1] < FewChannels && owned.TryPrimitiveDesc(WeightsDesc(lastInput, lastOutput), IntPtr.Zero, forwardPd) is var channelsLast && channelsLast != IntPtr.Zero
                    ? channelsLast
                    : owned.TryPrimitiveDesc(WeightsDesc(anyInput, anyOutput), IntPtr.Zero, forwardPd);
                return dataPd == IntPtr.Zero || weightsPd == IntPtr.Zero ? null : (forwardPd, dataPd, weightsPd);
            }
            // Winograd's F(4×4, 3×3) for 3×3 stride-1 convolutions on planes of 8×8 and more: 2.25× fewer
            // multiplications, and about 1.6× faster here forward and backward (ResNet's 64 and 128 channels on 16×16
            // and 8×8, batch 32: 4.3 against 8.4 ms and 4.4 against 7.0). On smaller planes the transforms of the few
            // 4×4 tiles cost more than they save (512 channels on 2×2: 17.8 against 9.7 ms), and direct it is.
            // Only with 16 channels or more in and out: its transforms mix a tile's values, so an output that sums few
            // terms (one output channel, a border pixel's gradient) takes rounding from its neighbours' magnitudes
            // (1.8e-4 of its own measured with 1 output channel), and such layers are cheap direct anyway.
            var winograd = weight[2] == 3 && weight[3] == 3 && stride == 1 && dilation == 1 && output[2] >= 8 && output[3] >= 8
                           && weight[0] >= FewChannels && weight[1] >= FewChannels
                ? Make(ConvolutionWinograd) : null;
            Winograd = winograd is not null;
            var (forwardPd, dataPd, weightsPd) = winograd ?? Make(ConvolutionDirect) ?? throw new NotSupportedException("oneDNN has no convolution for this shape");

            source = Operand.Of(owned, plainInput, owned.Query(forwardPd, QuerySrc), toPrimitive: true);
            weights = Operand.Of(owned, plainWeight, owned.Query(forwardPd, QueryWeights), toPrimitive: true);
            destination = Operand.Of(owned, plainOutput, owned.Query(forwardPd, QueryDst), toPrimitive: false);
            gradientOutputForData = Operand.Of(owned, plainOutput, owned.Query(dataPd, QueryDiffDst), toPrimitive: true);
            weightsForData = Operand.Of(owned, plainWeight, owned.Query(dataPd, QueryWeights), toPrimitive: true);
            gradientInput = Operand.Of(owned, plainInput, owned.Query(dataPd, QueryDiffSrc), toPrimitive: false);
            sourceForWeights = Operand.Of(owned, plainInput, owned.Query(weightsPd, QuerySrc), toPrimitive: true);
            gradientOutputForWeights = Operand.Of(owned, plainOutput, owned.Query(weightsPd, QueryDiffDst), toPrimitive: true);
            gradientWeights = Operand.Of(owned, plainWeight, owned.Query(weightsPd, QueryDiffWeights), toPrimitive: false);
            var blockedOutput = owned.Desc(output, TagABcd16b);
            bool IsChannelsLast(IntPtr chosen) =>
                dnnl_memory_desc_equal(chosen, lastOutput) != 0 || output[1] == 16 && dnnl_memory_desc_equal(chosen, blockedOutput) != 0;
            ChannelsLastOutput = IsChannelsLast(owned.Query(forwardPd, QueryDst)) && IsChannelsLast(owned.Query(dataPd, QueryDiffDst))
                                 && IsChannelsLast(owned.Query(weightsPd, QueryDiffDst));
            biasMemory = hasBias ? owned.Memory(bias, IntPtr.Zero) : IntPtr.Zero;
            gradientBiasMemory = hasBias ? owned.Memory(bias, IntPtr.Zero) : IntPtr.Zero;
            forward = owned.Primitive(forwardPd);
            backwardData = owned.Primitive(dataPd);
            backwardWeights = owned.Primitive(weightsPd);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether these primitives can take conv2d(<paramref name="input"/>, <paramref name="weight"/>) with these settings (oneDNN aside).</summary>
    public static bool Takes(Tensor input, Tensor weight, long groups) =>
        groups == 1 && input.dim() == 4 && weight.dim() == 4 && input.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32
        && input.device_type == TorchSharp.DeviceType.CPU && weight.device_type == TorchSharp.DeviceType.CPU;

    /// <summary>
    /// Primitives for inputs of shape <paramref name="input"/>, or null where they are not used: oneDNN has none for
    /// it, or libtorch's conv2d is the better path (decided here, once per shape, so the layer caches the answer).
    /// </summary>
    public static OneDnnConvolution? TryCreate(long[] input, long[] weight, bool hasBias, long stride, long padding, long dilation)
    {
        // Where the weights outnumber the input's values (ResNet's last two stages), libtorch's own, newer oneDNN
        // measured faster: 512 channels on 2×2 at batch 32, forward and backward 15.8 against 16.9 ms; 256 on 4×4,
        // 4.8 against 5.2.
        if (weight.Aggregate(1L, (a, b) => a * b) > input.Aggregate(1L, (a, b) => a * b)) return null;
        long Size(int axis) => ConvArithmetic.OutputSize(input[axis], weight[axis], stride, padding, dilation);
        long[] output = [input[0], weight[0], Size(2), Size(3)];
        if (output[2] < 1 || output[3] < 1) return null;
        // oneDNN's right padding is whatever makes its output size libtorch's (which drops a last partial window). A
        // last window that drops input columns would need it negative, which oneDNN 2.6 does not take safely (it
        // corrupted the heap here): libtorch's conv2d takes those shapes.
        long Right(int axis) => (output[axis] - 1) * stride + (weight[axis] - 1) * dilation + 1 - input[axis] - padding;
        long[] right = [Right(2), Right(3)];
        if (right[0] < 0 || right[1] < 0) return null;
        try { return new OneDnnConvolution(input, weight, hasBias, stride, padding, right, dilation, output); }
        catch (NotSupportedException) { return null; }
    }

    /// <summary>
    /// conv2d(input, weight, bias) for contiguous float32 tensors of the shapes the primitives were made for; with
    /// <paramref name="channelsLast"/> (where <see cref="ChannelsLastOutput"/>), the output channels-last, as the
    /// primitive wrote it.
    /// </summary>
    public Tensor Forward(Tensor input, Tensor weight, Tensor? bias, bool channelsLast = false)
    {
        if (channelsLast && !ChannelsLastOutput) throw new InvalidOperationException("these primitives do not write channels-last outputs");
        using var scope = NewDisposeScope();
        // Channels-last: [N, H, W, C] in memory, handed over as [N, C, H, W] with channels-last strides.
        var output = channelsLast ? empty(outputShape[0], outputShape[2], outputShape[3], outputShape[1]) : empty(outputShape);
        lock (owned)
        {
            omp_set_num_threads(get_num_threads());
            var args = stackalloc ExecArg[4];
            args[0] = new() { Arg = ArgSrc, Memory = source.In(input, stream) };
            args[1] = new() { Arg = ArgWeights, Memory = weights.In(weight, stream) };
            args[2] = new() { Arg = ArgDst, Memory = channelsLast ? destination.AsChosen(output) : destination.Out(output) };
            var count = 3;
            if (hasBias) args[count++] = new() { Arg = ArgBias, Memory = Bound(biasMemory, bias!) };
            Run(forward, args, count);
            if (!channelsLast) destination.Finish(stream);
            Check(dnnl_stream_wait(stream), "dnnl_stream_wait");
        }
        return (channelsLast ? output.permute(0, 3, 1, 2) : output).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The gradients of conv2d with respect to its input, weight and bias, each only where <paramref name="wanted"/>;
    /// <paramref name="gradientOutput"/> contiguous, or channels-last where <see cref="ChannelsLastOutput"/>.
    /// </summary>
    public (Tensor? Input, Tensor? Weight, Tensor? Bias) Backward(Tensor input, Tensor weight, Tensor gradientOutput, bool[] wanted)
    {
        using var scope = NewDisposeScope();
        // A channels-last gradient is read where it lies, as the primitives' own format (no reorder).
        var channelsLast = ChannelsLastOutput && !gradientOutput.is_contiguous() && MemoryLayout.IsChannelsLast(gradientOutput)
            ? gradientOutput.permute(0, 2, 3, 1) : null;
        Tensor? gradientInputTensor = wanted[0] ? empty(InputShape) : null;
        Tensor? gradientWeightTensor = wanted[1] || (wanted[2] && hasBias) ? empty(weightShape) : null;
        Tensor? gradientBiasTensor = wanted[2] && hasBias ? empty(weightShape[0]) : null;
        lock (owned)
        {
            omp_set_num_threads(get_num_threads());
            var args = stackalloc ExecArg[4];
            if (gradientInputTensor is not null)
            {
                args[0] = new() { Arg = ArgDiffDst, Memory = channelsLast is null ? gradientOutputForData.In(gradientOutput, stream) : gradientOutputForData.AsChosen(channelsLast) };
                args[1] = new() { Arg = ArgWeights, Memory = weightsForData.In(weight, stream) };
                args[2] = new() { Arg = ArgDiffSrc, Memory = gradientInput.Out(gradientInputTensor) };
                Run(backwardData, args, 3);
                gradientInput.Finish(stream);
            }
            if (gradientWeightTensor is not null)
            {
                args[0] = new() { Arg = ArgSrc, Memory = sourceForWeights.In(input, stream) };
                args[1] = new() { Arg = ArgDiffDst, Memory = channelsLast is null ? gradientOutputForWeights.In(gradientOutput, stream) : gradientOutputForWeights.AsChosen(channelsLast) };
                args[2] = new() { Arg = ArgDiffWeights, Memory = gradientWeights.Out(gradientWeightTensor) };
                var count = 3;
                if (hasBias) args[count++] = new() { Arg = ArgDiffBias, Memory = Bound(gradientBiasMemory, gradientBiasTensor ?? empty(weightShape[0])) };
                Run(backwardWeights, args, count);
                gradientWeights.Finish(stream);
            }
            Check(dnnl_stream_wait(stream), "dnnl_stream_wait");
        }
        return (gradientInputTensor?.MoveToOuterDisposeScope(), wanted[1] ? gradientWeightTensor!.MoveToOuterDisposeScope() : null,
            gradientBiasTensor?.MoveToOuterDisposeScope());
    }

    void Run(IntPtr primitive, ExecArg* args, int count) =>
        Check(dnnl_primitive_execute(primitive, stream, count, args), "dnnl_primitive_execute");

    static IntPtr Bound(IntPtr memory, Tensor tensor)
    {
        Check(dnnl_memory_set_data_handle(memory, (IntPtr)TensorAddress.Of(tensor)), "dnnl_memory_set_data_handle");
        return memory;
    }

    /// <summary>
    /// One operand of a primitive: libtorch's plain tensor, bound on each call, and, when the primitive chose
    /// another format, a scratch tensor in that format with the reorder into it (an input) or out of it (an output).
    /// The scratch is allocated per call and freed with the caller's dispose scope, so memory stays flat.
    /// </summary>
    sealed class Operand
    {
        readonly IntPtr plain, own, reorder;
        readonly long bytes;

        Operand(IntPtr plain, IntPtr own, IntPtr reorder, long bytes) => (this.plain, this.own, this.reorder, this.bytes) = (plain, own, reorder, bytes);

        public static Operand Of(OneDnnObjects owned, IntPtr plainDesc, IntPtr chosen, bool toPrimitive)
        {
            var plain = owned.Memory(plainDesc, IntPtr.Zero);
            if (dnnl_memory_desc_equal(plainDesc, chosen) != 0) return new(plain, plain, IntPtr.Zero, 0);
            var reorder = owned.Primitive(toPrimitive ? owned.ReorderDesc(plainDesc, chosen) : owned.ReorderDesc(chosen, plainDesc));
            return new(plain, owned.Memory(chosen, IntPtr.Zero), reorder, (long)dnnl_memory_desc_get_size(chosen));
        }

        /// <summary>The memory a primitive reads <paramref name="tensor"/> from (reordered into the primitive's format first when needed).</summary>
        public IntPtr In(Tensor tensor, IntPtr stream)
        {
            Bound(plain, tensor);
            if (reorder == IntPtr.Zero) return plain;
            Bound(own, empty(bytes / sizeof(float)));
            Copy(plain, own, stream);
            return own;
        }

        /// <summary>The memory a primitive writes <paramref name="tensor"/> through (its own format's scratch, until <see cref="Finish"/>).</summary>
        public IntPtr Out(Tensor tensor)
        {
            Bound(plain, tensor);
            if (reorder == IntPtr.Zero) return plain;
            return Bound(own, empty(bytes / sizeof(float)));
        }

        /// <summary>The memory in the primitive's own format, bound to <paramref name="tensor"/>, which holds (or is to hold) its bytes.</summary>
        public IntPtr AsChosen(Tensor tensor) => Bound(reorder == IntPtr.Zero ? plain : own, tensor);

        /// <summary>After the primitive has run: its output reordered into the plain tensor.</summary>
        public void Finish(IntPtr stream)
        {
            if (reorder != IntPtr.Zero) Copy(own, plain, stream);
        }

        void Copy(IntPtr from, IntPtr to, IntPtr stream)
        {
            var args = stackalloc ExecArg[] { new() { Arg = ArgFrom, Memory = from }, new() { Arg = ArgTo, Memory = to } };
            Check(dnnl_primitive_execute(reorder, stream, 2, args), "dnnl_primitive_execute");
        }
    }

    bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        owned.Dispose();
        dnnl_stream_destroy(stream);
        dnnl_engine_destroy(owned.Engine);
        GC.SuppressFinalize(this);
    }

    ~OneDnnConvolution() => Dispose();
}
