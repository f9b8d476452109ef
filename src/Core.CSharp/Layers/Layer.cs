using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// A layer value: an immutable description of a function from tensor to tensor with its
/// hyper-parameters. Equal by value, printable, and built into a TorchSharp module against an
/// input shape (<see cref="Model.Build"/>), at which point every input size is inferred and checked.
/// </summary>
public abstract record Layer
{
    /// <summary>One line for summaries and errors, e.g. <c>conv2d(6, k5)</c>.</summary>
    public abstract string Describe();

    /// <summary>The shape of one output sample for one input sample; a misfit is a <see cref="ShapeException"/> naming <paramref name="path"/>.</summary>
    public abstract Shape OutputShape(Shape input, string path = "");

    /// <summary>Builds the module for an input shape; <paramref name="path"/> is this layer's place in the model.</summary>
    internal abstract Built Build(Shape input, string path);

    /// <summary>
    /// The layers this one is made of, each with its name in paths (<c>body</c>, <c>0</c>, <c>conv1</c>; empty
    /// when the child takes this layer's own path). A leaf has none. Every tool that visits layers walks
    /// this (see <see cref="LayerTree"/>).
    /// </summary>
    public virtual IReadOnlyList<(string Name, Layer Layer)> Children => [];

    /// <summary>The same layer with other children, in <see cref="Children"/> order (a rebuilt tree keeps its shape).</summary>
    public virtual Layer WithChildren(IReadOnlyList<Layer> children) =>
        children.Count == 0 ? this : throw new ArgumentException($"'{Describe()}' has no children; it was given {children.Count}.");

    /// <inheritdoc/>
    public sealed override string ToString() => Describe();

    /// <summary>The path of a child: <c>parent.child</c>, or just <c>child</c> at the root.</summary>
    internal static string Child(string path, string name) => LayerTree.ChildPath(path, name);
}

/// <summary>A layer with a module of its own (not a combinator): one row in the summary.</summary>
public abstract record LeafLayer : Layer
{
    /// <summary>Creates the TorchSharp module once the input shape is known and checked.</summary>
    protected abstract nn.Module<Tensor, Tensor> CreateModule(Shape input);

    internal sealed override Built Build(Shape input, string path)
    {
        var output = OutputShape(input, path);
        var module = CreateModule(input);
        return new Built(module, output, [new LayerRow(path, Describe(), output, module)], [new ModelPart(path, this, input, output, module)]);
    }

    /// <summary>Throws unless the input has <paramref name="rank"/> dimensions.</summary>
    protected void RequireRank(Shape input, string path, int rank, string what, string? hint = null)
    {
        if (input.Rank != rank) throw new ShapeException(path, Describe(), input, what, hint);
    }
}

/// <summary>A built layer: its module, its output shape, its summary rows (leaves) and every part (all layers, outermost first).</summary>
internal sealed record Built(nn.Module<Tensor, Tensor> Module, Shape Output, IReadOnlyList<LayerRow> Rows, IReadOnlyList<ModelPart> Parts);

/// <summary>One layer of a built model, leaf or combinator, where it sits and the shapes it sees.</summary>
/// <param name="Path">Its place in the model (<c>""</c> for the root).</param>
/// <param name="Layer">The layer value.</param>
/// <param name="Input">The shape of one input sample there.</param>
/// <param name="Output">The shape of one output sample.</param>
/// <param name="Module">Its built module (sharing the model's parameters).</param>
internal sealed record ModelPart(string Path, Layer Layer, Shape Input, Shape Output, nn.Module<Tensor, Tensor> Module);

/// <summary>One leaf of a built model, as <see cref="Model.Summary"/> lists it.</summary>
public sealed record LayerRow
{
    internal LayerRow(string path, string layer, Shape output, nn.Module module) => (Path, Layer, Output, Module) = (path, layer, output, module);

    /// <summary>Where the layer sits in the model, e.g. <c>4.body.0</c>.</summary>
    public string Path { get; init; }
    /// <summary>The layer's description.</summary>
    public string Layer { get; }
    /// <summary>The shape of one output sample.</summary>
    public Shape Output { get; }
    /// <summary>The built module, holding the layer's parameters.</summary>
    internal nn.Module Module { get; }

    /// <summary>All parameter values of the layer.</summary>
    public long Parameters => Module.parameters().Sum(p => p.numel());
    /// <summary>The parameter values that training changes.</summary>
    public long Trainable => Module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
