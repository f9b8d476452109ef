using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>Inputs and targets held as tensors, first dimension = samples.</summary>
/// <param name="Inputs">[N, …] inputs.</param>
/// <param name="Targets">[N, …] targets (class indices, values, masks, boxes).</param>
public sealed record TensorData(Tensor Inputs, Tensor Targets)
{
    /// <summary>The number of samples.</summary>
    public long Count => Inputs.shape[0];

    /// <summary>Checks that inputs and targets have the same number of samples.</summary>
    public TensorData Checked() => Inputs.shape[0] == Targets.shape[0] ? this
        : throw new ArgumentException($"{Inputs.shape[0]} inputs but {Targets.shape[0]} targets; they must match sample for sample.");
}
