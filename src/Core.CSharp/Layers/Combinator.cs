using NeuralVision.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>
/// The few operations a combinator joins its children's outputs with. A combinator describes its dataflow
/// once, as <see cref="Combinator.Wire{T}"/> over this vocabulary, and each tool reads it in its own terms:
/// shapes (shape inference and building), tensors (the forward pass) and ONNX nodes (export). So a new
/// combinator needs no edit anywhere else.
/// </summary>
/// <typeparam name="T">What flows along the wires: a shape, a tensor, an ONNX value.</typeparam>
public interface IWiring<T>
{
    /// <summary>Child <paramref name="index"/> (in <see cref="Layer.Children"/> order) applied to <paramref name="input"/>.</summary>
    T Child(int index, T input);
    /// <summary>The element-wise sum of two values of the same shape.</summary>
    T Add(T a, T b);
    /// <summary>The element-wise product; <paramref name="b"/> may broadcast (e.g. one gate per channel, [C, 1, 1]).</summary>
    T Multiply(T a, T b);
    /// <summary>The values side by side along channels (the first dimension of a sample).</summary>
    T Concat(IReadOnlyList<T> parts);
    /// <summary>The value as one flat vector per sample.</summary>
    T Flatten(T value);
    /// <summary>Whether the wiring is for training (auxiliary heads run) or evaluation and export (they do not).</summary>
    bool Training { get; }
}

/// <summary>
/// A layer made of other layers (sequence, residual, concat, …). It names its children and says how their
/// outputs are joined (<see cref="Wire{T}"/>); building, the forward pass, ONNX export, the summary,
/// parameter paths and freezing all follow from that.
/// </summary>
public abstract record Combinator : Layer
{
    /// <summary>The dataflow: how the children's outputs make this layer's output from <paramref name="input"/>.</summary>
    public abstract T Wire<T>(IWiring<T> wiring, T input);

    /// <summary>
    /// The output shape, from the wiring read on shapes. Combinators with a misfit to explain in their own
    /// words (a residual's body and shortcut, a skip's height and width) override this with their checks.
    /// </summary>
    public override Shape OutputShape(Shape input, string path = "") => Wire(new ShapeWiring(this, path), input);

    internal sealed override Built Build(Shape input, string path)
    {
        var wiring = new BuildWiring(this, path);
        Wire(wiring, input);
        // What the layer gives in evaluation (an auxiliary head's training-only output is not its shape).
        var output = OutputShape(input, path);
        var children = Children;
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        var rows = new List<LayerRow>();
        var parts = new List<ModelPart>();
        for (int i = 0; i < children.Count; i++)
        {
            if (wiring.Built[i] is not { } built)
                throw new InvalidOperationException($"{Describe()} at '{path}' did not wire its child {i} ('{children[i].Name}'); every child must be used.");
            modules.Add((ChildName(children, i), built.Module));
            rows.AddRange(built.Rows);
            parts.AddRange(built.Parts);
        }
        var module = CreateModule(modules);
        parts.Insert(0, new ModelPart(path, this, input, output, module));
        return new Built(module, output, rows, parts);
    }

    /// <summary>The module: by default one that runs <see cref="Wire{T}"/> on tensors.</summary>
    internal virtual nn.Module<Tensor, Tensor> CreateModule(IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> children) =>
        new CombinatorModule(this, children);

    /// <summary>The registered name of child <paramref name="index"/>: its name, or its index when it has none.</summary>
    static string ChildName(IReadOnlyList<(string Name, Layer Layer)> children, int index) => children[index].Name is { Length: > 0 } name ? name : index.ToString();

    /// <summary>The path of child <paramref name="index"/> (of <paramref name="children"/>) under <paramref name="path"/>.</summary>
    internal static string ChildPath(string path, IReadOnlyList<(string Name, Layer Layer)> children, int index) => Child(path, ChildName(children, index));

    /// <summary>The wiring read on shapes, checking what every operation needs.</summary>
    sealed class ShapeWiring(Combinator owner, string path) : IWiring<Shape>
    {
        // Children is computed on each read (the layer is a value); read it once per wiring.
        readonly IReadOnlyList<(string Name, Layer Layer)> children = owner.Children;
        public bool Training => true;
        public Shape Child(int index, Shape input) => children[index].Layer.OutputShape(input, ChildPath(path, children, index));
        public Shape Add(Shape a, Shape b) => a.Equals(b) ? a
            : throw new ShapeException(path, owner.Describe(), a, $"two parts of the same shape to add; they are {a} and {b}");
        public Shape Multiply(Shape a, Shape b) => Broadcasts(b, a) ? a
            : throw new ShapeException(path, owner.Describe(), a, $"a factor that broadcasts over {a}; it is {b}", "give the factor the same shape, or 1 in the dimensions to spread over (e.g. reshape a gate to [C, 1, 1])");
        public Shape Concat(IReadOnlyList<Shape> parts)
        {
            if (parts.Count == 0) throw new ShapeException(path, owner.Describe(), new Shape(), "at least one part to concatenate");
            var first = parts[0];
            foreach (var p in parts.Skip(1))
                if (p.Rank != first.Rank || !p.Skip(1).SequenceEqual(first.Skip(1)))
                    throw new ShapeException(path, owner.Describe(), first, $"parts that agree in all but channels; they are {string.Join(" and ", parts)}");
            return first.With(0, parts.Sum(p => p[0]));
        }
        public Shape Flatten(Shape value) => new(value.Elements);

        static bool Broadcasts(Shape factor, Shape target) =>
            factor.Rank == target.Rank && factor.Zip(target).All(d => d.First == d.Second || d.First == 1);
    }

    /// <summary>The wiring read on shapes while building: each child is built where its input shape is known.</summary>
    sealed class BuildWiring(Combinator owner, string path) : IWiring<Shape>
    {
        readonly ShapeWiring shapes = new(owner, path);
        readonly IReadOnlyList<(string Name, Layer Layer)> children = owner.Children;
        public readonly Built?[] Built = new Built?[owner.Children.Count];
        public bool Training => true;
        public Shape Child(int index, Shape input)
        {
            if (Built[index] is not null) throw new InvalidOperationException($"{owner.Describe()} at '{path}' wires child {index} twice; a child is one set of weights used once.");
            var built = children[index].Layer.Build(input, ChildPath(path, children, index));
            Built[index] = built;
            return built.Output;
        }
        public Shape Add(Shape a, Shape b) => shapes.Add(a, b);
        public Shape Multiply(Shape a, Shape b) => shapes.Multiply(a, b);
        public Shape Concat(IReadOnlyList<Shape> parts) => shapes.Concat(parts);
        public Shape Flatten(Shape value) => shapes.Flatten(value);
    }
}

/// <summary>A combinator's module: its children registered by name, its forward pass the wiring read on tensors.</summary>
internal sealed class CombinatorModule : nn.Module<Tensor, Tensor>
{
    readonly Combinator combinator;
    readonly nn.Module<Tensor, Tensor>[] parts;

    public CombinatorModule(Combinator combinator, IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> children) : base(combinator.Describe())
    {
        this.combinator = combinator;
        parts = children.Select(c => c.Module).ToArray();
        foreach (var (name, module) in children) register_module(name, module);
        addsInPlace = combinator is Residual residual && FreshOutput.Of(residual.Body);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return combinator.Wire(new TensorWiring(parts, training, addsInPlace), input).MoveToOuterDisposeScope();
    }

    // A residual block whose body makes a fresh tensor (FreshOutput) may add the shortcut into the body's output
    // when no gradient is recorded: nothing else holds it.
    readonly bool addsInPlace;

    sealed class TensorWiring(nn.Module<Tensor, Tensor>[] children, bool training, bool addsInPlace) : IWiring<Tensor>
    {
        public bool Training => training;
        public Tensor Child(int index, Tensor input) => children[index].call(input);
        public Tensor Add(Tensor a, Tensor b) => addsInPlace && !is_grad_enabled() && !ReferenceEquals(a, b) ? a.add_(b, FinalizerFree.One) : a.add(b, FinalizerFree.One);
        public Tensor Multiply(Tensor a, Tensor b) => a.mul(b);
        public Tensor Concat(IReadOnlyList<Tensor> parts) => cat(parts.ToArray(), 1);
        public Tensor Flatten(Tensor value) => value.flatten(1);
    }
}
