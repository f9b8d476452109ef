using System.Runtime.InteropServices;
using static NeuralVision.Native.OneDnn;

namespace NeuralVision.Native;

/// <summary>
/// oneDNN objects made for one purpose (an inference plan, a training convolution) and freed together: memory
/// descriptors (blocks of native memory the caller owns, in oneDNN 2.x), memories, buffers, primitive descriptors,
/// attributes and primitives.
/// </summary>
internal sealed unsafe class OneDnnObjects(IntPtr engine) : IDisposable
{
    readonly List<IntPtr> blocks = [], memories = [], buffers = [], primitiveDescs = [], attributes = [], primitives = [];

    /// <summary>The engine the objects are made on.</summary>
    public IntPtr Engine { get; } = engine;

    /// <summary>A zeroed block of <paramref name="size"/> bytes (a descriptor's storage).</summary>
    public IntPtr Block(int size)
    {
        var block = (IntPtr)NativeMemory.AllocZeroed((nuint)size);
        blocks.Add(block);
        return block;
    }

    /// <summary>A float32 memory descriptor of these dimensions in format <paramref name="tag"/> (or "any").</summary>
    public IntPtr Desc(long[] dims, int tag)
    {
        var d = Block(MemoryDescSize);
        fixed (long* p = dims) Check(dnnl_memory_desc_init_by_tag(d, dims.Length, p, F32, tag), "dnnl_memory_desc_init_by_tag");
        return d;
    }

    /// <summary>A copy of a descriptor a primitive descriptor reports (which lives only as long as it does).</summary>
    public IntPtr Copy(IntPtr desc)
    {
        var d = Block(MemoryDescSize);
        NativeMemory.Copy((void*)desc, (void*)d, MemoryDescSize);
        return d;
    }

    /// <summary>Memory of descriptor <paramref name="desc"/> over <paramref name="handle"/> (zero: none yet, set it before use).</summary>
    public IntPtr Memory(IntPtr desc, IntPtr handle)
    {
        var m = CreateMemory(desc, Engine, handle);
        memories.Add(m);
        return m;
    }

    /// <summary>A buffer of <paramref name="size"/> bytes, aligned for vector loads, owned until disposal.</summary>
    public IntPtr Buffer(long size)
    {
        var b = (IntPtr)NativeMemory.AlignedAlloc((nuint)size, 64);
        buffers.Add(b);
        return b;
    }

    /// <summary>The primitive descriptor oneDNN makes for an operation, or zero when it has none.</summary>
    public IntPtr TryPrimitiveDesc(IntPtr opDesc, IntPtr attr, IntPtr forwardHint = default)
    {
        IntPtr pd;
        if (dnnl_primitive_desc_create(&pd, opDesc, attr, Engine, forwardHint) != 0) return IntPtr.Zero;
        primitiveDescs.Add(pd);
        return pd;
    }

    /// <summary>The descriptor of a reorder between two formats of one shape.</summary>
    public IntPtr ReorderDesc(IntPtr from, IntPtr to)
    {
        IntPtr pd;
        Check(dnnl_reorder_primitive_desc_create(&pd, from, Engine, to, Engine, IntPtr.Zero), "dnnl_reorder_primitive_desc_create");
        primitiveDescs.Add(pd);
        return pd;
    }

    /// <summary>A copy of the descriptor of <paramref name="what"/> (QuerySrc, QueryDiffDst…) a primitive descriptor chose.</summary>
    public IntPtr Query(IntPtr pd, int what) => Copy(dnnl_primitive_desc_query_md(pd, what, 0));

    /// <summary>Takes an attribute to free with the rest.</summary>
    public IntPtr Own(IntPtr attribute)
    {
        attributes.Add(attribute);
        return attribute;
    }

    /// <summary>The primitive of a primitive descriptor.</summary>
    public IntPtr Primitive(IntPtr pd)
    {
        IntPtr primitive;
        Check(dnnl_primitive_create(&primitive, pd), "dnnl_primitive_create");
        primitives.Add(primitive);
        return primitive;
    }

    bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var p in primitives) dnnl_primitive_destroy(p);
        foreach (var pd in primitiveDescs) dnnl_primitive_desc_destroy(pd);
        foreach (var a in attributes) dnnl_primitive_attr_destroy(a);
        foreach (var m in memories) dnnl_memory_destroy(m);
        foreach (var b in buffers) NativeMemory.AlignedFree((void*)b);
        foreach (var b in blocks) NativeMemory.Free((void*)b);
    }
}
