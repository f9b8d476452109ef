using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// The one way from NeuralVision to raw TorchSharp, for what the library does not cover: the module behind
/// a model (hooks, TorchSharp's own optimisers, custom serialisation). NeuralVision's public API otherwise
/// speaks only in its own types and in tensors. What is done through the module bypasses NeuralVision's
/// checks and bookkeeping (mode restoring, frozen BatchNorm statistics, training-state ownership).
/// </summary>
public static class TorchSharpEscape
{
    /// <summary>The TorchSharp module that computes <paramref name="model"/>, sharing its parameters.</summary>
    public static nn.Module<Tensor, Tensor> Module(Model model) => model.Module;
}
