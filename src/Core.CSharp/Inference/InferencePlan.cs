using System.Runtime.InteropServices;
using NeuralVision.Layers;
using NeuralVision.Native;
using static NeuralVision.Native.OneDnn;
using static TorchSharp.torch;

namespace NeuralVision.Inference;

/// <summary>
/// An <see cref="InferenceGraph"/> made into oneDNN primitives for one batch size: each primitive chooses its
/// memory format (oneDNN's blocked formats, reordered only where two disagree), 3×3 stride-1 convolutions use
/// Winograd's algorithm (F(4×4, 3×3): 2.25× fewer multiplications, about 1.8× faster here), weights are reordered
/// into the format their primitive reads once, when the plan is made, and activations share buffers once they are
/// no longer read. Running it is one pass of primitives over the batch, no allocation.
/// </summary>
internal sealed unsafe class InferencePlan : IDisposable
{
    /// <summary>The batch size the plan was made for.</summary>
    public long Batch { get; }
    /// <summary>The bytes of activation buffers the plan holds.</summary>
    public long BufferBytes { get; private set; }
    /// <summary>How many convolutions run Winograd's algorithm.</summary>
    public int WinogradConvolutions { get; private set; }

    readonly IntPtr stream;
    readonly OneDnnObjects owned;
    readonly List<(IntPtr Primitive, IntPtr Arguments, int Count, string Path, string Kind)> steps = [];
    // What the next steps belong to, for profiles.
    string path = "", kind = "";
    readonly IntPtr inputMemory, outputMemory;

    sealed class Buffer(IntPtr pointer, long size) { public readonly IntPtr Pointer = pointer; public readonly long Size = size; public int Users; }

    public InferencePlan(InferenceGraph graph, long batch, IntPtr engine, IntPtr stream)
    {
        (Batch, this.stream, owned) = (batch, stream, new OneDnnObjects(engine));
        try
        {
            var values = graph.Shapes.Count;
            var desc = new IntPtr[values];
            var memory = new IntPtr[values];
            var buffer = new Buffer?[values];
            var lastRead = new int[values];
            for (int k = 0; k < graph.Operations.Count; k++)
                foreach (var v in graph.Operations[k].Inputs.Append(graph.Operations[k].Sum ?? -1).Where(v => v >= 0)) lastRead[v] = k;
            lastRead[graph.Output] = int.MaxValue;
            var free = new List<Buffer>();

            desc[0] = Plain(graph.Shapes[0]);
            memory[0] = inputMemory = Memory(desc[0], IntPtr.Zero);

            Buffer Take(IntPtr d)
            {
                var size = (long)dnnl_memory_desc_get_size(d);
                var found = free.Where(b => b.Size >= size).OrderBy(b => b.Size).FirstOrDefault();
                if (found is not null) free.Remove(found);
                else
                {
                    found = Allocate(size);
                    BufferBytes += size;
                }
                found.Users++;
                return found;
            }
            void Release(Buffer b) { if (--b.Users == 0) free.Add(b); }
            // A value of its own, in a buffer of its own.
            void Place(int value, IntPtr d)
            {
                desc[value] = d;
                buffer[value] = Take(d);
                memory[value] = Memory(d, buffer[value]!.Pointer);
            }
            // A value kept in another's buffer (in place, or a reshaped view).
            void Alias(int value, IntPtr d, int of)
            {
                desc[value] = d;
                buffer[value] = buffer[of];
                buffer[value]!.Users++;
                memory[value] = Memory(d, buffer[value]!.Pointer);
            }
            // Whether step k may write over `value`: nothing reads it after k, no other live value shares its buffer (a
            // flattened view), and it is not the caller's batch.
            bool Overwritable(int value, int k) => value != 0 && lastRead[value] == k && buffer[value]!.Users == 1;
            // The memory of `value` in format `wanted`: itself, or a reordered copy in a buffer freed after this step.
            IntPtr InFormat(int value, IntPtr wanted, List<Buffer> temporaries)
            {
                if (dnnl_memory_desc_equal(desc[value], wanted) != 0) return memory[value];
                var b = Take(wanted);
                temporaries.Add(b);
                var copy = Memory(wanted, b.Pointer);
                Reorder(memory[value], desc[value], copy, wanted);
                return copy;
            }

            for (int k = 0; k < graph.Operations.Count; k++)
            {
                var op = graph.Operations[k];
                var input = op.Inputs[0];
                var temporaries = new List<Buffer>();
                (path, kind) = (op.Path, Kind(op));
                switch (op.Kind)
                {
                    case OperationKind.Convolution:
                    {
                        var conv = (Conv2d)op.Layer!;
                        var outShape = graph.Shapes[op.Output];
                        var inShape = graph.Shapes[input];
                        var src = Desc([batch, .. inShape], TagAny);
                        var weights = Desc(op.Weight!.shape, TagAny);
                        var bias = op.Bias is null ? IntPtr.Zero : Desc(op.Bias.shape, TagA);
                        var dst = Desc([batch, .. outShape], TagAny);
                        long[] strides = [conv.Stride, conv.Stride], dilates = [conv.Dilation - 1, conv.Dilation - 1];
                        long[] padding = [conv.Padding, conv.Padding];
                        var winograd = conv.Kernel == 3 && conv.Stride == 1 && conv.Dilation == 1;
                        var pd = IntPtr.Zero;
                        foreach (var algorithm in winograd ? [ConvolutionWinograd, ConvolutionDirect] : new[] { ConvolutionDirect })
                        {
                            var opDesc = Block(OpDescSize);
                            fixed (long* s = strides, d = dilates, p = padding)
                                Check(dnnl_dilated_convolution_forward_desc_init(opDesc, ForwardInference, algorithm, src, weights, bias, dst, s, d, p, p), "dnnl_dilated_convolution_forward_desc_init");
                            pd = TryPrimitiveDesc(opDesc, PostOps(op.Sum is not null, op.Relu));
                            if (pd != IntPtr.Zero) { if (algorithm == ConvolutionWinograd) { WinogradConvolutions++; kind = kind.Replace("convolution", "convolution (Winograd)"); } break; }
                        }
                        if (pd == IntPtr.Zero) throw new InvalidOperationException($"oneDNN has no convolution for {conv.Describe()} on {inShape}.");
                        var srcMemory = InFormat(input, owned.Query(pd, QuerySrc), temporaries);
                        var packed = Packed(op.Weight!, owned.Query(pd, QueryWeights));
                        var dstDesc = owned.Query(pd, QueryDst);
                        if (op.Sum is { } sum)
                        {
                            // oneDNN adds into what the output buffer holds: the shortcut's own buffer when nothing reads
                            // it later, else a copy of it.
                            if (Overwritable(sum, k) && dnnl_memory_desc_equal(desc[sum], dstDesc) != 0) Alias(op.Output, dstDesc, sum);
                            else { Place(op.Output, dstDesc); Reorder(memory[sum], desc[sum], memory[op.Output], dstDesc); }
                        }
                        else Place(op.Output, dstDesc);
                        var args = new List<ExecArg> { new() { Arg = ArgSrc, Memory = srcMemory }, new() { Arg = ArgWeights, Memory = packed }, new() { Arg = ArgDst, Memory = memory[op.Output] } };
                        if (op.Bias is not null) args.Add(new() { Arg = ArgBias, Memory = UserMemory(op.Bias).Memory });
                        Step(pd, args);
                        break;
                    }
                    case OperationKind.InnerProduct:
                    {
                        var src = desc[input];
                        var weights = Desc(op.Weight!.shape, TagAny);
                        var bias = op.Bias is null ? IntPtr.Zero : Desc(op.Bias.shape, TagA);
                        var dst = Desc([batch, op.Weight.shape[0]], TagAny);
                        var opDesc = Block(OpDescSize);
                        Check(dnnl_inner_product_forward_desc_init(opDesc, ForwardInference, src, weights, bias, dst), "dnnl_inner_product_forward_desc_init");
                        var pd = PrimitiveDesc(opDesc, PostOps(false, op.Relu));
                        var srcMemory = InFormat(input, owned.Query(pd, QuerySrc), temporaries);
                        var packed = Packed(op.Weight!, owned.Query(pd, QueryWeights));
                        Place(op.Output, owned.Query(pd, QueryDst));
                        var args = new List<ExecArg> { new() { Arg = ArgSrc, Memory = srcMemory }, new() { Arg = ArgWeights, Memory = packed }, new() { Arg = ArgDst, Memory = memory[op.Output] } };
                        if (op.Bias is not null) args.Add(new() { Arg = ArgBias, Memory = UserMemory(op.Bias).Memory });
                        Step(pd, args);
                        break;
                    }
                    case OperationKind.Pooling:
                    {
                        var inShape = graph.Shapes[input];
                        var outShape = graph.Shapes[op.Output];
                        var (algorithm, kernel, stride, padding, ceil) = op.Layer switch
                        {
                            Pool2d p => (p.Kind == PoolKind.Max ? PoolingMax : PoolingAvgIncludePadding, p.Kernel, p.Stride ?? p.Kernel, p.Padding, p.CeilMode),
                            _ => (PoolingAvgExcludePadding, inShape[1], 1L, 0L, false), // the whole plane: adaptive 1×1, global
                        };
                        long[] kernels = op.Layer is Pool2d ? [kernel, kernel] : [inShape[1], inShape[2]];
                        long[] strides = [stride, stride], dilation = [0, 0], left = [padding, padding];
                        // Ceil mode's last, partial window: padding on the right makes oneDNN's output size PyTorch's.
                        long[] right = [RightPadding(inShape[1], outShape[1]), RightPadding(inShape[2], outShape[2])];
                        long RightPadding(long size, long output) => ceil ? Math.Max(padding, (output - 1) * stride + kernel - size - padding) : padding;
                        var dst = Desc([batch, .. outShape], TagAny);
                        var opDesc = Block(OpDescSize);
                        fixed (long* s = strides, kk = kernels, d = dilation, l = left, r = right)
                            Check(dnnl_pooling_v2_forward_desc_init(opDesc, ForwardInference, algorithm, desc[input], dst, s, kk, d, l, r), "dnnl_pooling_v2_forward_desc_init");
                        var pd = PrimitiveDesc(opDesc, IntPtr.Zero);
                        Place(op.Output, owned.Query(pd, QueryDst));
                        Step(pd, [new() { Arg = ArgSrc, Memory = memory[input] }, new() { Arg = ArgDst, Memory = memory[op.Output] }]);
                        break;
                    }
                    case OperationKind.Relu:
                    {
                        var opDesc = Block(OpDescSize);
                        Check(dnnl_eltwise_forward_desc_init(opDesc, ForwardInference, EltwiseRelu, desc[input], 0, 0), "dnnl_eltwise_forward_desc_init");
                        var pd = PrimitiveDesc(opDesc, IntPtr.Zero);
                        if (Overwritable(input, k)) Alias(op.Output, desc[input], input);
                        else Place(op.Output, desc[input]);
                        Step(pd, [new() { Arg = ArgSrc, Memory = memory[input] }, new() { Arg = ArgDst, Memory = memory[op.Output] }]);
                        break;
                    }
                    case OperationKind.Add:
                    {
                        var other = InFormat(op.Inputs[1], desc[input], temporaries);
                        var opDesc = Block(OpDescSize);
                        Check(dnnl_binary_desc_init(opDesc, BinaryAdd, desc[input], desc[input], desc[input]), "dnnl_binary_desc_init");
                        var pd = PrimitiveDesc(opDesc, IntPtr.Zero);
                        Place(op.Output, desc[input]);
                        Step(pd, [new() { Arg = ArgSrc, Memory = memory[input] }, new() { Arg = ArgSrc1, Memory = other }, new() { Arg = ArgDst, Memory = memory[op.Output] }]);
                        break;
                    }
                    case OperationKind.Flatten:
                    {
                        // A plain [N, C, H, W] buffer read as [N, C·H·W]: reordered to plain first if it is blocked.
                        var plain = Plain(graph.Shapes[input]);
                        var flat = Block(MemoryDescSize);
                        long[] dims = [batch, graph.Shapes[op.Output][0]];
                        fixed (long* d = dims) Check(dnnl_memory_desc_reshape(flat, plain, 2, d), "dnnl_memory_desc_reshape");
                        if (input != 0 && dnnl_memory_desc_equal(desc[input], plain) != 0) Alias(op.Output, flat, input);
                        else
                        {
                            Place(op.Output, flat);
                            Reorder(memory[input], desc[input], Memory(plain, buffer[op.Output]!.Pointer), plain);
                        }
                        break;
                    }
                }
                foreach (var b in temporaries) Release(b);
                foreach (var v in op.Inputs.Append(op.Sum ?? -1).Where(v => v > 0 && lastRead[v] == k).Distinct()) Release(buffer[v]!);
            }
            (path, kind) = ("", "reorder to the output");
            var outputDesc = Plain(graph.Shapes[graph.Output]);
            outputMemory = Memory(outputDesc, IntPtr.Zero);
            Reorder(memory[graph.Output], desc[graph.Output], outputMemory, outputDesc);
        }
        catch
        {
            Dispose();
            throw;
        }

        // The plain [N, …shape] format of a value (nchw, or nc), as libtorch holds a contiguous batch.
        IntPtr Plain(Shape shape) => Desc([batch, .. shape], shape.Rank == 3 ? TagAbcd : shape.Rank == 1 ? TagAb : throw new ArgumentException($"a value of shape {shape} has no plain format here"));
    }

    IntPtr Block(int size) => owned.Block(size);
    IntPtr Desc(long[] dims, int tag) => owned.Desc(dims, tag);
    IntPtr Copy(IntPtr desc) => owned.Copy(desc);
    IntPtr Memory(IntPtr desc, IntPtr handle) => owned.Memory(desc, handle);

    // A parameter tensor (contiguous, kept alive by the graph) as oneDNN memory in its own plain format.
    (IntPtr Memory, IntPtr Desc) UserMemory(Tensor tensor)
    {
        var tag = tensor.dim() switch { 1 => TagA, 2 => TagAb, 4 => TagAbcd, _ => throw new ArgumentException($"a parameter of {tensor.dim()} dimensions") };
        var desc = Desc(tensor.shape, tag);
        return (Memory(desc, (IntPtr)TensorAddress.Of(tensor)), desc);
    }

    // Native memory the plan owns until it is disposed.
    Buffer Allocate(long size) => new(owned.Buffer(size), size);

    // Weights reordered once into the format their primitive reads.
    IntPtr Packed(Tensor weight, IntPtr format)
    {
        var (user, userDesc) = UserMemory(weight);
        var packed = Memory(format, Allocate((long)dnnl_memory_desc_get_size(format)).Pointer);
        RunNow(ReorderPrimitive(userDesc, format), user, packed);
        return packed;
    }

    IntPtr PostOps(bool sum, bool relu)
    {
        if (!sum && !relu) return IntPtr.Zero;
        IntPtr ops, attr;
        Check(dnnl_post_ops_create(&ops), "dnnl_post_ops_create");
        if (sum) Check(dnnl_post_ops_append_sum(ops, 1f), "dnnl_post_ops_append_sum");
        if (relu) Check(dnnl_post_ops_append_eltwise(ops, 1f, EltwiseRelu, 0f, 0f), "dnnl_post_ops_append_eltwise");
        Check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create");
        Check(dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops");
        dnnl_post_ops_destroy(ops);
        return owned.Own(attr);
    }

    IntPtr TryPrimitiveDesc(IntPtr opDesc, IntPtr attr) => owned.TryPrimitiveDesc(opDesc, attr);

    IntPtr PrimitiveDesc(IntPtr opDesc, IntPtr attr) =>
        TryPrimitiveDesc(opDesc, attr) is var pd && pd != IntPtr.Zero ? pd : throw new InvalidOperationException("oneDNN could not make a primitive for an operation of the plan.");

    IntPtr ReorderPrimitive(IntPtr from, IntPtr to) => owned.ReorderDesc(from, to);

    void Reorder(IntPtr fromMemory, IntPtr from, IntPtr toMemory, IntPtr to)
    {
        var owner = kind;
        kind = kind.StartsWith("reorder") ? kind : $"reorder for {owner}";
        Step(ReorderPrimitive(from, to), [new() { Arg = ArgFrom, Memory = fromMemory }, new() { Arg = ArgTo, Memory = toMemory }]);
        kind = owner;
    }

    static string Kind(Operation op) => op.Kind switch
    {
        OperationKind.Convolution => $"convolution {((Conv2d)op.Layer!).Kernel}x{((Conv2d)op.Layer!).Kernel}" + (op.Sum is null ? "" : " + add") + (op.Relu ? " + ReLU" : ""),
        OperationKind.InnerProduct => "linear" + (op.Relu ? " + ReLU" : ""),
        var other => other.ToString().ToLowerInvariant(),
    };

    IntPtr Create(IntPtr pd) => owned.Primitive(pd);

    void Step(IntPtr pd, List<ExecArg> args)
    {
        var block = Block(sizeof(ExecArg) * args.Count);
        for (int i = 0; i < args.Count; i++) ((ExecArg*)block)[i] = args[i];
        steps.Add((Create(pd), block, args.Count, path, kind));
    }

    void RunNow(IntPtr pd, IntPtr from, IntPtr to)
    {
        var args = stackalloc ExecArg[] { new() { Arg = ArgFrom, Memory = from }, new() { Arg = ArgTo, Memory = to } };
        Check(dnnl_primitive_execute(Create(pd), stream, 2, args), "dnnl_primitive_execute");
        Check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    /// <summary>Runs the plan on a contiguous float batch of its size into a contiguous float output.</summary>
    public void Run(Tensor input, Tensor output)
    {
        Check(dnnl_memory_set_data_handle(inputMemory, (IntPtr)TensorAddress.Of(input)), "dnnl_memory_set_data_handle");
        Check(dnnl_memory_set_data_handle(outputMemory, (IntPtr)TensorAddress.Of(output)), "dnnl_memory_set_data_handle");
        foreach (var (primitive, args, count, _, _) in steps)
            Check(dnnl_primitive_execute(primitive, stream, count, (ExecArg*)args), "dnnl_primitive_execute");
        Check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    /// <summary>Runs the plan as <see cref="Run"/> does, timing each step: (layer path, what the step does, milliseconds).</summary>
    public IReadOnlyList<(string Path, string Kind, double Milliseconds)> Profile(Tensor input, Tensor output)
    {
        Check(dnnl_memory_set_data_handle(inputMemory, (IntPtr)TensorAddress.Of(input)), "dnnl_memory_set_data_handle");
        Check(dnnl_memory_set_data_handle(outputMemory, (IntPtr)TensorAddress.Of(output)), "dnnl_memory_set_data_handle");
        var times = new List<(string, string, double)>();
        foreach (var (primitive, args, count, stepPath, stepKind) in steps)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Check(dnnl_primitive_execute(primitive, stream, count, (ExecArg*)args), "dnnl_primitive_execute");
            Check(dnnl_stream_wait(stream), "dnnl_stream_wait");
            times.Add((stepPath, stepKind, clock.Elapsed.TotalMilliseconds));
        }
        return times;
    }

    bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        owned.Dispose();
        GC.SuppressFinalize(this);
    }

    ~InferencePlan() => Dispose();
}
