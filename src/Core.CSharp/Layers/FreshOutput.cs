namespace NeuralVision.Layers;

/// <summary>
/// Whether a layer's output is always a new tensor that nothing but its caller holds. Without autograd the next
/// step may then overwrite it instead of allocating another activation, as ONNX Runtime's fused kernels do: a ReLU
/// after a convolution (<see cref="SequenceModule"/>), a residual's shortcut added into its body's output
/// (<see cref="CombinatorModule"/>). One rule for every step that overwrites; and the rules for the steps that
/// merge, a convolution and the ReLU after it (<see cref="ConvolutionThenRelu"/>), a ReLU and the max pool after it
/// (<see cref="ReluThenMaxPool"/>).
/// </summary>
internal static class FreshOutput
{
    /// <summary>Whether <paramref name="layer"/> always gives a tensor of its own (a view of its input never is).</summary>
    public static bool Of(Layer layer) => layer switch
    {
        Named named => Of(named.Inner),
        // What the last layer that does something gives; identities (BatchNorms folded away) pass their input on.
        Sequence sequence => sequence.Layers.LastOrDefault(l => !PassesInputOn(l)) is { } last && Of(last),
        Conv2d or Linear or BatchNorm2d or BatchNorm1d => true,
        // Body plus shortcut: a new tensor, or the body's own fresh output added into.
        Residual => true,
        _ => false,
    };

    /// <summary>For each step of a sequence, whether it is a ReLU whose input is the fresh output of the steps before it.</summary>
    public static bool[] ReluSteps(Sequence sequence) =>
        sequence.Layers.Select((layer, i) => IsRelu(layer) && Of(sequence.Slice(0, i))).ToArray();

    /// <summary>For each step of a sequence, whether it is a 2-D convolution and the next step a ReLU.</summary>
    public static bool[] ConvolutionThenRelu(Sequence sequence) => Pairs(sequence, layer => Unnamed(layer) is Conv2d, IsRelu);

    /// <summary>For each step of a sequence, whether it is a ReLU and the next step a max pool.</summary>
    public static bool[] ReluThenMaxPool(Sequence sequence) => Pairs(sequence, IsRelu, layer => Unnamed(layer) is Pool2d { Kind: PoolKind.Max });

    static bool[] Pairs(Sequence sequence, Func<Layer, bool> first, Func<Layer, bool> second) =>
        sequence.Layers.Select((layer, i) => first(layer) && i + 1 < sequence.Count && second(sequence.Layers[i + 1])).ToArray();

    static bool PassesInputOn(Layer layer) => Unnamed(layer) is Identity;

    /// <summary>Whether <paramref name="layer"/> (named or not) is a ReLU.</summary>
    internal static bool IsRelu(Layer layer) => Unnamed(layer) is Activation { Kind: ActivationKind.ReLU };

    /// <summary>The layer inside any names given to it.</summary>
    internal static Layer Unnamed(Layer layer) => layer is Named named ? Unnamed(named.Inner) : layer;
}
