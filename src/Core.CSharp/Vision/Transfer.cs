using NeuralVision.Layers;
using static TorchSharp.torch;

namespace NeuralVision.Vision;

/// <summary>Transfer learning: new heads on trained networks, weights carried across.</summary>
public static class Transfer
{
    /// <summary>
    /// The pipeline with its last layer replaced by <paramref name="head"/> (keeping the old layer's name,
    /// e.g. <c>fc</c>), as one replaces a pretrained classifier with one for new classes.
    /// </summary>
    public static Layer ReplaceHead(Layer net, Layer head)
    {
        if (net is not Sequence { Count: >= 2 } pipeline)
            throw new ArgumentException($"{net} is not a pipeline with a head to replace.");
        return LayerTree.Replace(net, pipeline.Children[^1].Name, head);
    }

    /// <summary>
    /// Copies every parameter and buffer of <paramref name="from"/> into <paramref name="to"/> that has
    /// the same name and shape there (e.g. everything but a replaced head); returns the names not copied.
    /// </summary>
    public static IReadOnlyList<string> CopyMatching(Model from, Model to)
    {
        using var noGrad = no_grad();
        var source = from.Module.state_dict();
        var skipped = new List<string>();
        foreach (var (name, target) in to.Module.state_dict())
        {
            if (source.TryGetValue(name, out var value) && value.shape.SequenceEqual(target.shape)) target.copy_(value);
            else skipped.Add(name);
        }
        return skipped;
    }

    /// <summary>Copies all of <paramref name="from"/>'s parameters and buffers into <paramref name="to"/> under a name prefix (e.g. a backbone inside a bigger model).</summary>
    public static void CopyMatchingPrefixed(Model from, Model to, string prefix)
    {
        using var noGrad = no_grad();
        var target = to.Module.state_dict();
        foreach (var (name, value) in from.Module.state_dict())
        {
            if (!target.TryGetValue(prefix + name, out var t) || !t.shape.SequenceEqual(value.shape))
                throw new ArgumentException($"{prefix + name} is not in the target model with shape [{string.Join(", ", value.shape)}].");
            t.copy_(value);
        }
    }
}
