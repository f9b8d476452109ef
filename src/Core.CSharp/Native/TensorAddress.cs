using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace NeuralVision.Native;

/// <summary>
/// The address of a CPU tensor's first element, for native code that reads and writes tensors in place
/// (MPI's collectives). TorchSharp keeps it internal; its bridge exports it as <c>THSTensor_data</c>.
/// </summary>
internal static unsafe class TensorAddress
{
    static readonly Lazy<IntPtr> dataFunction = new(() =>
    {
        var bridge = TorchNative.EnsureLoaded().Bridge is { } path
            ? NativeLibrary.Load(path)
            : NativeLibrary.Load("LibTorchSharp", typeof(TorchSharp.torch).Assembly, null);
        return NativeLibrary.GetExport(bridge, "THSTensor_data");
    });

    /// <summary>The address of <paramref name="tensor"/>'s data, which must be contiguous and on the CPU (the caller keeps it alive).</summary>
    public static void* Of(Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException($"native code needs a contiguous CPU tensor, not a {(tensor.is_contiguous() ? "" : "strided ")}{tensor.device_type} one.");
        return ((delegate* unmanaged<IntPtr, void*>)dataFunction.Value)(tensor.Handle);
    }
}
