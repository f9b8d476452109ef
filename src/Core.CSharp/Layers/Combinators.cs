namespace NeuralVision.Layers;

/// <summary>
/// Layers applied one after another. Nested sequences are flattened when built with
/// <see cref="Of"/>, so sequencing is associative: (a → b) → c equals a → (b → c).
/// </summary>
/// <param name="Layers">The layers, first applied first.</param>
public sealed record Sequence(ValueList<Layer> Layers) : Combinator
{
    /// <summary>The sequence of the given layers, with nested sequences spliced in.</summary>
    public static Sequence Of(params Layer[] layers) =>
        new(new ValueList<Layer>(layers.SelectMany(l => l is Sequence s ? s.Layers : (IEnumerable<Layer>)[l])));

    /// <inheritdoc/>
    public override string Describe() => $"sequence({Layers.Count})";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => Layers.Select((l, i) => (NameOf(l, i), l)).ToList();

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new Sequence(new ValueList<Layer>(children));

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input)
    {
        var x = input;
        for (int i = 0; i < Layers.Count; i++) x = wiring.Child(i, x);
        return x;
    }

    /// <summary>The layers from <paramref name="start"/> for <paramref name="length"/> (C# ranges: <c>net[..3]</c>), names kept.</summary>
    public Sequence Slice(int start, int length) => new(new ValueList<Layer>(Layers.Skip(start).Take(length)));

    /// <summary>The number of layers (with <see cref="Slice"/>, C# ranges work on a sequence).</summary>
    public int Count => Layers.Count;

    // Frees each intermediate result as soon as the next layer has used it.
    internal override TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> CreateModule(
        IReadOnlyList<(string Name, TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Module)> children) => new SequenceModule(children, this);

    static string NameOf(Layer layer, int index) => layer is Named { Name.Length: > 0 } n ? n.Name : index.ToString();
}

/// <summary>
/// A layer under a name of its own: its path segment and parameter prefix (e.g. <c>conv1</c>) in a
/// sequence. With an empty name it is a block: a sequence kept whole (not spliced into the enclosing
/// one), under its index — for repeated sub-blocks whose children carry names.
/// </summary>
/// <param name="Name">A name without dots, or empty for an indexed block.</param>
/// <param name="Inner">The layer.</param>
public sealed record Named(string Name, Layer Inner) : Layer
{
    /// <inheritdoc/>
    public override string Describe() => Inner.Describe();
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") => Inner.OutputShape(input, path);
    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => [("", Inner)];
    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => this with { Inner = children.Single() };
    internal override Built Build(Shape input, string path) =>
        Name.Contains('.') ? throw new ArgumentException($"Layer name '{Name}' contains a dot; names are path segments.") : Inner.Build(input, path);
}

/// <summary>
/// Runs every branch on the same input and concatenates the outputs along channels — the Inception
/// block. All output dimensions but the channels must agree.
/// </summary>
/// <param name="Branches">The parallel branches.</param>
public sealed record Concat(ValueList<Layer> Branches) : Combinator
{
    /// <summary>The concatenation of the given branches.</summary>
    public static Concat Of(params Layer[] branches) => new(new ValueList<Layer>(branches));

    /// <inheritdoc/>
    public override string Describe() => $"concat({Branches.Count})";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => Branches.Select((b, i) => (i.ToString(), b)).ToList();

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new Concat(new ValueList<Layer>(children));

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input) => wiring.Concat(Branches.Select((_, i) => wiring.Child(i, input)).ToList());

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        Join(input, path, Branches.Select((b, i) => b.OutputShape(input, Child(path, i.ToString()))).ToList());

    Shape Join(Shape input, string path, IReadOnlyList<Shape> outputs)
    {
        if (outputs.Count == 0) throw new ShapeException(path, Describe(), input, "at least one branch");
        var first = outputs[0];
        for (int i = 1; i < outputs.Count; i++)
            if (outputs[i].Rank != first.Rank || !outputs[i].Skip(1).SequenceEqual(first.Skip(1)))
                throw new ShapeException(path, Describe(), input,
                    $"branches whose outputs agree in all but channels; branch 0 gives {first}, branch {i} gives {outputs[i]}");
        return first.With(0, outputs.Sum(o => o[0]));
    }
}

/// <summary>
/// body(x) + x — the ResNet block. When the body changes the shape, a projection (typically a 1×1
/// convolution with stride) maps x to the body's output shape.
/// </summary>
/// <param name="Body">The residual branch.</param>
/// <param name="Projection">The shortcut's projection, or null for the identity shortcut.</param>
public sealed record Residual(Layer Body, Layer? Projection = null) : Combinator
{
    /// <inheritdoc/>
    public override string Describe() => Projection is null ? "residual" : "residual(projected)";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => Projection is null ? [("body", Body)] : [("body", Body), ("projection", Projection)];

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new Residual(children[0], children.Count > 1 ? children[1] : null);

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input) => wiring.Add(wiring.Child(0, input), Projection is null ? input : wiring.Child(1, input));

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") =>
        Check(input, path, Body.OutputShape(input, Child(path, "body")), Projection?.OutputShape(input, Child(path, "projection")));

    Shape Check(Shape input, string path, Shape body, Shape? projected)
    {
        var shortcut = projected ?? input;
        if (!body.Equals(shortcut))
            throw new ShapeException(path, Describe(), input,
                $"a body whose output equals the shortcut's; the body gives {body}, the shortcut {shortcut}",
                Projection is null ? "add a projection (e.g. a 1x1 conv2d with the body's channels and stride)" : "fix the projection's channels or stride");
        return body;
    }
}

/// <summary>cat(x, inner(x)) along channels — U-Net's skip connection around an inner encoder–decoder.</summary>
/// <param name="Inner">What runs between the two ends of the skip; must keep height and width.</param>
public sealed record Skip(Layer Inner) : Combinator
{
    /// <inheritdoc/>
    public override string Describe() => "skip";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => [("inner", Inner)];

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new Skip(children.Single());

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input) => wiring.Concat([input, wiring.Child(0, input)]);

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") => Check(input, path, Inner.OutputShape(input, Child(path, "inner")));

    Shape Check(Shape input, string path, Shape inner)
    {
        if (input.Rank != 3 || inner.Rank != 3 || inner[1] != input[1] || inner[2] != input[2])
            throw new ShapeException(path, Describe(), input, $"an inner part that keeps [height, width]; it gives {inner}", "upsample back to the input size inside the skip");
        return input.With(0, input[0] + inner[0]);
    }
}

/// <summary>
/// Several heads on the same features, e.g. class scores and a box: each head's output is flattened
/// and the results are concatenated, [Σ head sizes]; <see cref="Split"/> takes them apart again.
/// </summary>
/// <param name="Branches">The heads, in output order.</param>
public sealed record Heads(ValueList<Layer> Branches) : Combinator
{
    /// <summary>Heads from the given layers.</summary>
    public static Heads Of(params Layer[] heads) => new(new ValueList<Layer>(heads));

    /// <inheritdoc/>
    public override string Describe() => $"heads({Branches.Count})";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => Branches.Select((b, i) => (i.ToString(), b)).ToList();

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new Heads(new ValueList<Layer>(children));

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input) => wiring.Concat(Branches.Select((_, i) => wiring.Flatten(wiring.Child(i, input))).ToList());

    /// <summary>The output of each head, from a model's [batch, Σ sizes] output, given the input shape.</summary>
    public TorchSharp.torch.Tensor[] Split(TorchSharp.torch.Tensor output, Shape input)
    {
        var sizes = Branches.Select(b => b.OutputShape(input).Elements).ToArray();
        return output.split(sizes, 1);
    }
}

/// <summary>
/// A main path with an auxiliary head on the same input, as GoogLeNet's auxiliary classifiers: in
/// training mode the output is [main(x), aux(x)] flattened side by side (the loss weighs both, see
/// <c>Loss.WithAuxiliary</c>); in evaluation mode only main(x). The model's output shape is main's.
/// </summary>
/// <param name="Main">The main path.</param>
/// <param name="Aux">The auxiliary head.</param>
public sealed record Auxiliary(Layer Main, Layer Aux) : Combinator
{
    /// <inheritdoc/>
    public override string Describe() => "auxiliary";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Layer Layer)> Children => [("main", Main), ("aux", Aux)];

    /// <inheritdoc/>
    public override Layer WithChildren(IReadOnlyList<Layer> children) => new Auxiliary(children[0], children[1]);

    /// <inheritdoc/>
    public override T Wire<T>(IWiring<T> wiring, T input)
    {
        var main = wiring.Child(0, input);
        return wiring.Training ? wiring.Concat([wiring.Flatten(main), wiring.Flatten(wiring.Child(1, input))]) : main;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        Aux.OutputShape(input, Child(path, "aux"));
        return Main.OutputShape(input, Child(path, "main"));
    }
}
