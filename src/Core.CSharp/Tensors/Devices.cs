using NeuralVision.Native;
using TorchSharp;

namespace NeuralVision.Tensors;

/// <summary>Which device computations run on: CPU by default, CUDA when libtorch reports it, NV_DEVICE to override.</summary>
public static class Devices
{
    /// <summary>The environment variable that overrides the choice: <c>cpu</c> or <c>cuda</c>.</summary>
    public const string OverrideVariable = "NV_DEVICE";

    /// <summary>
    /// Chooses a device from the override (may be null or empty) and whether CUDA is usable. Pure, so
    /// that the rule can be tested without a GPU.
    /// </summary>
    /// <exception cref="ArgumentException">The override names no known device, or asks for CUDA where there is none.</exception>
    public static DeviceType Choose(string? requested, bool cudaAvailable) =>
        (requested ?? "").Trim().ToLowerInvariant() switch
        {
            "" => cudaAvailable ? DeviceType.CUDA : DeviceType.CPU,
            "cpu" => DeviceType.CPU,
            "cuda" or "gpu" when cudaAvailable => DeviceType.CUDA,
            "cuda" or "gpu" => throw new ArgumentException(
                $"{OverrideVariable}={requested} asks for CUDA, but libtorch reports no usable CUDA device. " +
                $"Unset {OverrideVariable} or set it to cpu; for CUDA build with -p:NvTorchBackend=cuda on a machine with an NVIDIA driver."),
            _ => throw new ArgumentException($"{OverrideVariable}={requested} is not a device; use cpu or cuda."),
        };

    /// <summary>The CPU device (libtorch loaded first).</summary>
    public static torch.Device Cpu
    {
        get { TorchNative.EnsureLoaded(); return torch.CPU; }
    }

    /// <summary>
    /// The device chosen for this process from <see cref="OverrideVariable"/> and libtorch's CUDA check; on CUDA, the
    /// GPU of this rank when mpirun started several on the machine (<see cref="GpuOfRank"/>).
    /// </summary>
    public static torch.Device Default
    {
        get
        {
            TorchNative.EnsureLoaded();
            var type = Choose(Environment.GetEnvironmentVariable(OverrideVariable), torch.cuda.is_available());
            if (type != DeviceType.CUDA) return new torch.Device(type);
            var localRank = int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK"), out var r) ? r : (int?)null;
            return new torch.Device(type, GpuOfRank(localRank, torch.cuda.device_count()));
        }
    }

    /// <summary>
    /// The GPU a rank trains on: ranks on one machine take its GPUs in turn (local rank modulo the GPU count), as
    /// Horovod pins them; a process that is not a rank takes GPU 0.
    /// </summary>
    public static int GpuOfRank(int? localRank, int gpus) => localRank is { } rank && gpus > 0 ? rank % gpus : 0;
}
