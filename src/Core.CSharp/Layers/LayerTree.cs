namespace NeuralVision.Layers;

/// <summary>
/// The one walk of a layer tree, over <see cref="Layer.Children"/> and <see cref="Layer.WithChildren"/>:
/// every tool that visits layers (summary rows, parameter paths, freezing, head replacement, ONNX import
/// and export) goes through it, so a new combinator is visited without being named anywhere.
/// </summary>
public static class LayerTree
{
    /// <summary>Every layer of the tree with its path, parents before their children, children in order.</summary>
    public static IEnumerable<(string Path, Layer Layer)> Nodes(Layer root, string path = "")
    {
        yield return (path, root);
        foreach (var (name, child) in root.Children)
            foreach (var node in Nodes(child, ChildPath(path, name)))
                yield return node;
    }

    /// <summary>The leaf layers with their paths, in the order a built model lists them (its summary rows).</summary>
    public static IEnumerable<(string Path, Layer Layer)> Leaves(Layer root) =>
        Nodes(root).Where(n => n.Layer.Children.Count == 0);

    /// <summary>
    /// The layer at <paramref name="path"/> (e.g. <c>encoder</c>, <c>layer1.0.body</c>, <c>3</c>); a name
    /// given to a layer with <see cref="Named"/> reaches the layer itself. An unknown path is refused with
    /// the paths there are.
    /// </summary>
    public static Layer At(Layer root, string path)
    {
        // The innermost layer at that path: a Named wrapper and what it names share the path.
        var found = Nodes(root).LastOrDefault(n => n.Path == path && n.Layer is not Named);
        if (found.Layer is not null) return found.Layer;
        var paths = Paths(root).ToList();
        throw new ArgumentException($"no layer at path '{path}'; the paths are: {string.Join(", ", paths.Take(20))}{(paths.Count > 20 ? ", …" : "")}.");
    }

    /// <summary>The tree with the layer at <paramref name="path"/> replaced by <paramref name="replacement"/> (a Named wrapper keeps its name).</summary>
    public static Layer Replace(Layer root, string path, Layer replacement)
    {
        At(root, path); // refuses an unknown path with the paths there are
        return Rebuild(root, "", path, replacement);
    }

    /// <summary>The tree rebuilt bottom-up, each layer given to <paramref name="rewrite"/> with its path after its children were.</summary>
    public static Layer Map(Layer root, Func<string, Layer, Layer> rewrite, string path = "")
    {
        var children = root.Children;
        var rebuilt = children.Count == 0 ? root
            : root.WithChildren(children.Select(c => Map(c.Layer, rewrite, ChildPath(path, c.Name))).ToList());
        return rewrite(path, rebuilt);
    }

    /// <summary>The distinct paths of the tree's layers (the root is "").</summary>
    public static IEnumerable<string> Paths(Layer root) => Nodes(root).Select(n => n.Path).Where(p => p.Length > 0).Distinct();

    /// <summary>The path of a child named <paramref name="name"/> under <paramref name="path"/> (an empty name keeps the path).</summary>
    public static string ChildPath(string path, string name) => name.Length == 0 ? path : path.Length == 0 ? name : $"{path}.{name}";

    static Layer Rebuild(Layer layer, string path, string target, Layer replacement)
    {
        if (path == target) return layer is Named named ? named with { Inner = Rebuild(named.Inner, path, target, replacement) } : replacement;
        if (path.Length > 0 && !Model.PathStartsWith(target, path)) return layer;
        var children = layer.Children;
        if (children.Count == 0) return layer;
        return layer.WithChildren(children.Select(c => Rebuild(c.Layer, ChildPath(path, c.Name), target, replacement)).ToList());
    }
}
