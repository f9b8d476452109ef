using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>
/// Standardisation of inputs: per-channel (or per-feature) mean and standard deviation, computed from data
/// and applied to any batch. (BatchNorm, the layer, is in Layers/Normalisation.cs.)
/// </summary>
/// <param name="Mean">One mean per channel (dimension 1).</param>
/// <param name="Std">One standard deviation per channel.</param>
public sealed record Standardisation(double[] Mean, double[] Std)
{
    /// <summary>The statistics of <paramref name="inputs"/> [N, C, …] over every dimension but the channels.</summary>
    public static Standardisation Fit(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        var perChannel = inputs.to_type(ScalarType.Float64).transpose(0, 1).reshape(inputs.shape[1], -1);
        var mean = perChannel.mean([1L]).data<double>().ToArray();
        var std = perChannel.std(1).data<double>().ToArray();
        if (std.Any(s => s == 0))
            throw new ArgumentException($"channel {Array.IndexOf(std, 0.0)} is constant (std 0); it cannot be standardised; drop it.");
        return new Standardisation(mean, std);
    }

    /// <summary>(x − mean) / std per channel; a new tensor.</summary>
    public Tensor Apply(Tensor inputs)
    {
        var shape = Enumerable.Repeat(1L, (int)inputs.dim()).ToArray();
        shape[1] = Mean.Length;
        using var mean = tensor(Mean, dtype: inputs.dtype, device: inputs.device).reshape(shape);
        using var std = tensor(Std, dtype: inputs.dtype, device: inputs.device).reshape(shape);
        return inputs.sub(mean).div(std);
    }

    /// <summary>The data with standardised inputs (targets unchanged).</summary>
    public TensorData Apply(TensorData data) => data with { Inputs = Apply(data.Inputs) };
}
