using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>Inputs and targets held as tensors, first dimension = samples.</summary>
/// <param name="Inputs">[N, …] inputs.</param>
/// <param name="Targets">[N, …] targets (class indices, values, masks, boxes).</param>
public sealed record TensorData(Tensor Inputs, Tensor Targets)
{
    /// <summary>The number of samples.</summary>
    public long Count => Inputs.size(0);

    /// <summary>Checks that inputs and targets have the same number of samples.</summary>
    public TensorData Checked() => Inputs.size(0) == Targets.size(0) ? this
        : throw new ArgumentException($"{Inputs.size(0)} inputs but {Targets.size(0)} targets; they must match sample for sample.");
}
