using System.Runtime.InteropServices;

namespace NeuralVision.Native;

/// <summary>
/// The C API of oneDNN 2.x (Debian's libdnnl2), the few calls inference plans and training convolutions need. libtorch carries its own
/// oneDNN inside, unexported, so its kernels cannot be reached with other settings (prepacked weights, Winograd,
/// fused post-operations); this one can. The descriptors of oneDNN 2.x are structs the caller owns: they are held
/// here as blocks of native memory of the header's sizes, and only passed by pointer.
/// </summary>
internal static unsafe class OneDnn
{
    const string Library = "libdnnl.so.2";
    /// <summary>The Debian package that brings <see cref="Library"/>.</summary>
    public const string Package = "libdnnl2";

    // sizeof(...) in oneDNN 2.6's dnnl_types.h (x86-64); the largest op descriptor is the convolution's.
    public const int MemoryDescSize = 696;
    public const int OpDescSize = 5976;

    public const int F32 = 3;
    public const int TagAny = 1, TagA = 2, TagAb = 3, TagAbcd = 5, TagAcdb = 20;
    // dnnl_aBcd16b in oneDNN 2.6's numbering (found by comparing descriptors); only ever compared with descriptors
    // oneDNN chose, so a library that numbers it otherwise just finds no match.
    public const int TagABcd16b = 69;
    public const int ForwardTraining = 64, ForwardInference = 96, BackwardData = 160, BackwardWeights = 192;
    public const int ConvolutionDirect = 1, ConvolutionWinograd = 2;
    public const int EltwiseRelu = 31;
    public const int PoolingMax = 511, PoolingAvgIncludePadding = 767, PoolingAvgExcludePadding = 1023;
    public const int BinaryAdd = 131056;
    public const int QuerySrc = 129, QueryDiffSrc = 130, QueryWeights = 131, QueryDiffWeights = 132, QueryDst = 133, QueryDiffDst = 134, QueryImplementation = 8;
    public const int ArgSrc = 1, ArgSrc1 = 2, ArgDst = 17, ArgWeights = 33, ArgBias = 41, ArgFrom = 1, ArgTo = 17;
    public const int ArgDiffSrc = 129, ArgDiffDst = 145, ArgDiffWeights = 161, ArgDiffBias = 169;
    const int EngineCpu = 1, StreamDefault = 1;
    static readonly IntPtr Allocate = new(-1);

    [StructLayout(LayoutKind.Sequential)]
    public struct ExecArg { public int Arg; public IntPtr Memory; }

    static readonly Lazy<string?> loaded = new(Load);

    /// <summary>Null when the library is here; otherwise why not (for the fallback's explanation).</summary>
    public static string? Missing => loaded.Value;

    static string? Load()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return "oneDNN plans are built on Linux x86-64 only";
        if (!NativeLibrary.TryLoad(Library, out _))
        {
            // Provisioned like the data sets and Open MPI: installed when this is a Debian machine run as root.
            try { DebianPackages.Install([Package], "fast inference (oneDNN)"); }
            catch (NativeLibraryException e) { return e.Message; }
            if (!NativeLibrary.TryLoad(Library, out _)) return $"{Library} is still missing after installing {Package}";
        }
        var version = dnnl_version();
        return version->major == 2 ? null : $"{Library} is oneDNN {version->major}.{version->minor}, and these plans are written against 2.x";
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Version { public int major, minor, patch; public IntPtr hash; public uint cpu_runtime, gpu_runtime; }

    /// <summary>"2.6.3".</summary>
    public static string VersionText { get { var v = dnnl_version(); return $"{v->major}.{v->minor}.{v->patch}"; } }

    /// <summary>Throws with the call's name unless oneDNN reported success.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"oneDNN's {call} failed with status {status}.");
    }

    /// <summary>A CPU engine and a stream on it, for the process.</summary>
    public static (IntPtr Engine, IntPtr Stream) CreateEngine()
    {
        IntPtr engine, stream;
        Check(dnnl_engine_create(&engine, EngineCpu, 0), "dnnl_engine_create");
        Check(dnnl_stream_create(&stream, engine, StreamDefault), "dnnl_stream_create");
        return (engine, stream);
    }

    /// <summary>Memory for a descriptor, allocated by oneDNN (or over <paramref name="handle"/> when given).</summary>
    public static IntPtr CreateMemory(IntPtr desc, IntPtr engine, IntPtr? handle = null)
    {
        IntPtr memory;
        Check(dnnl_memory_create(&memory, desc, engine, handle ?? Allocate), "dnnl_memory_create");
        return memory;
    }

    // Debian's oneDNN asks for libgomp.so.1, and libtorch's own copy (libgomp-<hash>.so.1) carries that soname, so
    // once libtorch is loaded both run on its one OpenMP runtime and thread pool (no second team spinning beside the
    // first). The thread count is set here all the same, for a libtorch whose OpenMP would be another.
    [DllImport("libgomp.so.1")] public static extern void omp_set_num_threads(int threads);

    [DllImport(Library)] public static extern Version* dnnl_version();
    [DllImport(Library)] public static extern int dnnl_engine_create(IntPtr* engine, int kind, nuint index);
    [DllImport(Library)] public static extern int dnnl_engine_destroy(IntPtr engine);
    [DllImport(Library)] public static extern int dnnl_stream_create(IntPtr* stream, IntPtr engine, uint flags);
    [DllImport(Library)] public static extern int dnnl_stream_wait(IntPtr stream);
    [DllImport(Library)] public static extern int dnnl_stream_destroy(IntPtr stream);
    [DllImport(Library)] public static extern int dnnl_memory_desc_init_by_tag(IntPtr desc, int ndims, long* dims, int dataType, int tag);
    [DllImport(Library)] public static extern int dnnl_memory_desc_reshape(IntPtr outDesc, IntPtr inDesc, int ndims, long* dims);
    [DllImport(Library)] public static extern int dnnl_memory_desc_equal(IntPtr a, IntPtr b);
    [DllImport(Library)] public static extern nuint dnnl_memory_desc_get_size(IntPtr desc);
    [DllImport(Library)] public static extern int dnnl_memory_create(IntPtr* memory, IntPtr desc, IntPtr engine, IntPtr handle);
    [DllImport(Library)] public static extern int dnnl_memory_set_data_handle(IntPtr memory, IntPtr handle);
    [DllImport(Library)] public static extern int dnnl_memory_get_data_handle(IntPtr memory, IntPtr* handle);
    [DllImport(Library)] public static extern int dnnl_memory_destroy(IntPtr memory);
    [DllImport(Library)] public static extern int dnnl_dilated_convolution_forward_desc_init(IntPtr desc, int prop, int algorithm, IntPtr src, IntPtr weights, IntPtr bias, IntPtr dst, long* strides, long* dilates, long* paddingLeft, long* paddingRight);
    [DllImport(Library)] public static extern int dnnl_dilated_convolution_backward_data_desc_init(IntPtr desc, int algorithm, IntPtr diffSrc, IntPtr weights, IntPtr diffDst, long* strides, long* dilates, long* paddingLeft, long* paddingRight);
    [DllImport(Library)] public static extern int dnnl_dilated_convolution_backward_weights_desc_init(IntPtr desc, int algorithm, IntPtr src, IntPtr diffWeights, IntPtr diffBias, IntPtr diffDst, long* strides, long* dilates, long* paddingLeft, long* paddingRight);
    [DllImport(Library)] public static extern int dnnl_pooling_v2_forward_desc_init(IntPtr desc, int prop, int algorithm, IntPtr src, IntPtr dst, long* strides, long* kernel, long* dilation, long* paddingLeft, long* paddingRight);
    [DllImport(Library)] public static extern int dnnl_inner_product_forward_desc_init(IntPtr desc, int prop, IntPtr src, IntPtr weights, IntPtr bias, IntPtr dst);
    [DllImport(Library)] public static extern int dnnl_eltwise_forward_desc_init(IntPtr desc, int prop, int algorithm, IntPtr data, float alpha, float beta);
    [DllImport(Library)] public static extern int dnnl_binary_desc_init(IntPtr desc, int algorithm, IntPtr src0, IntPtr src1, IntPtr dst);
    [DllImport(Library)] public static extern int dnnl_post_ops_create(IntPtr* postOps);
    [DllImport(Library)] public static extern int dnnl_post_ops_append_sum(IntPtr postOps, float scale);
    [DllImport(Library)] public static extern int dnnl_post_ops_append_eltwise(IntPtr postOps, float scale, int algorithm, float alpha, float beta);
    [DllImport(Library)] public static extern int dnnl_post_ops_destroy(IntPtr postOps);
    [DllImport(Library)] public static extern int dnnl_primitive_attr_create(IntPtr* attr);
    [DllImport(Library)] public static extern int dnnl_primitive_attr_set_post_ops(IntPtr attr, IntPtr postOps);
    [DllImport(Library)] public static extern int dnnl_primitive_attr_destroy(IntPtr attr);
    [DllImport(Library)] public static extern int dnnl_primitive_desc_create(IntPtr* primitiveDesc, IntPtr opDesc, IntPtr attr, IntPtr engine, IntPtr hint);
    [DllImport(Library)] public static extern int dnnl_reorder_primitive_desc_create(IntPtr* primitiveDesc, IntPtr src, IntPtr srcEngine, IntPtr dst, IntPtr dstEngine, IntPtr attr);
    [DllImport(Library)] public static extern IntPtr dnnl_primitive_desc_query_md(IntPtr primitiveDesc, int what, int index);
    [DllImport(Library)] public static extern int dnnl_primitive_desc_query(IntPtr primitiveDesc, int what, int index, void* result);
    [DllImport(Library)] public static extern int dnnl_primitive_desc_destroy(IntPtr primitiveDesc);
    [DllImport(Library)] public static extern int dnnl_primitive_create(IntPtr* primitive, IntPtr primitiveDesc);
    [DllImport(Library)] public static extern int dnnl_primitive_execute(IntPtr primitive, IntPtr stream, int count, ExecArg* args);
    [DllImport(Library)] public static extern int dnnl_primitive_destroy(IntPtr primitive);
}
