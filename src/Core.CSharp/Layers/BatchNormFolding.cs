using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// The evaluation-mode rewrite ONNX Runtime and PyTorch's inference freezing make: a BatchNorm right after a
/// convolution is an affine map per output channel with fixed statistics, so it can be folded into the
/// convolution's weights and bias, and the pass over every activation it costs disappears. The rewritten
/// layer keeps every path: the convolution gains a bias, the BatchNorm becomes an identity.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>The layer with every convolution → BatchNorm pair in a sequence folded, and the pairs folded (paths and the BatchNorm's eps).</summary>
    public static (Layer Layer, IReadOnlyList<(string Conv, string Norm, double Eps)> Pairs) Fold(Layer root)
    {
        var pairs = new List<(string, string, double)>();
        var folded = LayerTree.Map(root, (path, layer) =>
        {
            if (layer is not Sequence sequence) return layer;
            var children = sequence.Children;
            var layers = sequence.Layers.ToList();
            for (int i = 0; i + 1 < layers.Count; i++)
                if (Unwrap(layers[i]) is Conv2d conv && Unwrap(layers[i + 1]) is BatchNorm2d norm)
                {
                    pairs.Add((LayerTree.ChildPath(path, children[i].Name), LayerTree.ChildPath(path, children[i + 1].Name), norm.Eps));
                    layers[i] = Rewrap(layers[i], conv with { Bias = true });
                    layers[i + 1] = Rewrap(layers[i + 1], new Identity());
                }
            return new Sequence(new ValueList<Layer>(layers));
        });
        return (folded, pairs);
    }

    /// <summary>Sets the folded convolutions' weights and biases in <paramref name="target"/> from the pairs' values in <paramref name="source"/>.</summary>
    public static void FoldValues(IReadOnlyDictionary<string, Tensor> source, IReadOnlyDictionary<string, Tensor> target,
        IReadOnlyList<(string Conv, string Norm, double Eps)> pairs)
    {
        using var noGrad = no_grad();
        foreach (var (conv, norm, eps) in pairs)
        {
            var (weight, bias) = nn.utils.fuse_conv_bn_weights(
                source[$"{conv}.weight"], source.GetValueOrDefault($"{conv}.bias"),
                source[$"{norm}.running_mean"], source[$"{norm}.running_var"], eps,
                source[$"{norm}.weight"], source[$"{norm}.bias"]);
            target[$"{conv}.weight"].copy_(weight);
            target[$"{conv}.bias"].copy_(bias);
        }
    }

    static Layer Unwrap(Layer layer) => layer is Named named ? Unwrap(named.Inner) : layer;

    static Layer Rewrap(Layer original, Layer inner) => original is Named named ? named with { Inner = Rewrap(named.Inner, inner) } : inner;
}
