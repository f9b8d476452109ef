using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>One batch: inputs [N, …] and targets [N, …].</summary>
/// <param name="Inputs">The model's input.</param>
/// <param name="Targets">What the loss compares the output with.</param>
/// <param name="Owned">True when the batch was made for this step (by a loader): the step frees it.</param>
public sealed record Batch(Tensor Inputs, Tensor Targets, bool Owned = false)
{
    /// <summary>The number of samples.</summary>
    public long Count => Inputs.shape[0];
}
