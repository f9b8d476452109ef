using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>
/// One batch: inputs [N, …] and targets [N, …]. Disposing it frees its tensors when it owns them (a
/// loader made them for one step) and does nothing when it only lends tensors that live elsewhere.
/// </summary>
/// <param name="Inputs">The model's input.</param>
/// <param name="Targets">What the loss compares the output with.</param>
/// <param name="Owned">True when the batch was made for this step (by a loader): the step frees it.</param>
public sealed record Batch(Tensor Inputs, Tensor Targets, bool Owned = false) : IDisposable
{
    /// <summary>The number of samples.</summary>
    public long Count => Inputs.size(0);

    /// <summary>Frees the inputs and targets if the batch owns them.</summary>
    public void Dispose()
    {
        if (!Owned) return;
        Inputs.Dispose();
        Targets.Dispose();
    }
}
