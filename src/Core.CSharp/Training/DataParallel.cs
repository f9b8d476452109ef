using NeuralVision.Data;
using NeuralVision.Distributed;
using NeuralVision.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>
/// Horovod's recipe for training on several ranks, each holding the whole model: start every rank from
/// rank 0's weights, train each on its own share of every batch, and average the gradients after every
/// backward pass, so every rank takes the same step a single process would take on the whole batch.
/// </summary>
/// <remarks>
/// BatchNorm: each rank normalises with the statistics of its own share (as PyTorch's DistributedDataParallel
/// and Horovod without SyncBatchNorm do), so with BatchNorm the step is that of "ghost batches" of b/N, not of one
/// batch of b. The running statistics are averaged over the ranks at the end of every epoch, so evaluation and
/// checkpoints see the same model on every rank.
/// </remarks>
internal static class DataParallel
{
    /// <summary>Checks that the ranks built the same model, then gives every rank rank 0's weights and buffers.</summary>
    public static void Join(Model model, Communicator ranks)
    {
        if (!ranks.IsDistributed) return;
        var state = model.Module.state_dict();
        var layout = string.Join(";", state.Select(kv => $"{kv.Key}:{kv.Value.dtype}[{string.Join(",", kv.Value.shape)}]"));
        ranks.Agree([
            ("the model's number of weights", model.Module.parameters().Sum(p => p.numel())),
            ("the fingerprint of the model's layer names and shapes", Communicator.Fingerprint(layout)),
        ]);
        using var noGrad = no_grad();
        foreach (var tensor in state.Values.Where(IsFloat))
            InPlace(tensor, t => ranks.Broadcast(t));
    }

    /// <summary>Checks, before the first step, that the ranks train from the same point on the same data in the same batches.</summary>
    public static void CheckAgreement(TrainState start, Loader loader, Communicator ranks)
    {
        if (!ranks.IsDistributed) return;
        using var scope = NewDisposeScope();
        ranks.Agree([
            ("the number of training samples", loader.Data.Count),
            // Accumulated in float64 without a float64 copy of the data set.
            ("the sum of the training inputs", loader.Data.Inputs.sum(ScalarType.Float64).ToDouble()),
            ("the sum of the training targets", loader.Data.Targets.sum(ScalarType.Float64).ToDouble()),
            ("the batch size", loader.BatchSize),
            ("the shuffling seed", loader.Seed),
            ("the number of completed epochs", start.Epoch),
            ("the number of completed steps", start.Step),
        ]);
    }

    /// <summary>Replaces every gradient by its mean over the ranks: one all-reduce per flat parameter group.</summary>
    public static void AverageGradients(optim.Optimizer updater, Communicator ranks)
    {
        if (!ranks.IsDistributed) return;
        using var noGrad = no_grad();
        foreach (var parameter in updater.parameters())
        {
            if (parameter.grad is not { } gradient) continue;
            InPlace(gradient, t => ranks.AllReduceSum(t));
            gradient.div_(ranks.Size);
        }
    }

    /// <summary>Replaces the floating-point buffers (BatchNorm's running statistics) by their mean over the ranks.</summary>
    public static void AverageBuffers(Model model, Communicator ranks)
    {
        if (!ranks.IsDistributed) return;
        using var noGrad = no_grad();
        foreach (var buffer in model.Module.buffers().Where(IsFloat))
        {
            InPlace(buffer, t => ranks.AllReduceSum(t));
            buffer.div_(ranks.Size);
        }
    }

    // Integer buffers (BatchNorm's batch count) are the same on every rank by construction.
    static bool IsFloat(Tensor t) => t.dtype is ScalarType.Float32 or ScalarType.Float64;

    /// <summary>
    /// Runs a collective on a tensor in place; through a contiguous copy in host memory when the tensor is strided or
    /// on a GPU (the binding hands MPI host addresses; a CUDA-aware MPI could take device memory directly).
    /// </summary>
    static void InPlace(Tensor tensor, Action<Tensor> collective)
    {
        if (tensor.is_contiguous() && tensor.device_type == DeviceType.CPU) { collective(tensor); return; }
        using var copy = tensor.to(CPU).contiguous();
        collective(copy);
        tensor.copy_(copy);
    }
}
