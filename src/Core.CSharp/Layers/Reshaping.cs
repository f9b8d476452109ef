using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>Flattens each sample to a vector: [C, H, W] → [C·H·W].</summary>
public sealed record Flatten : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => "flatten";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") => new(input.Elements);
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.Flatten();
}

/// <summary>Gives each sample a new shape with the same number of values (one size may be −1: inferred).</summary>
/// <param name="Dims">The new per-sample shape.</param>
public sealed record Reshape(ValueList<long> Dims) : LeafLayer
{
    /// <summary>A reshape to the given sizes.</summary>
    public Reshape(params long[] dims) : this(new ValueList<long>(dims)) { }

    /// <inheritdoc/>
    public override string Describe() => $"reshape({string.Join("x", Dims)})";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        var known = Dims.Where(d => d != -1).Aggregate(1L, (a, b) => a * b);
        var unknown = Dims.Count(d => d == -1);
        if (unknown > 1 || Dims.Any(d => d == 0 || d < -1))
            throw new ShapeException(path, Describe(), input, "positive sizes with at most one -1");
        if (unknown == 1 ? input.Elements % known != 0 : input.Elements != known)
            throw new ShapeException(path, Describe(), input, unknown == 1 ? $"a multiple of {known} values" : $"{known} values (it has {input.Elements})");
        return Shape.Of(Dims.Select(d => d == -1 ? input.Elements / known : d));
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input)
    {
        var target = OutputShape(input).WithBatch(-1);
        return new FunctionModule(Describe(), x => x.reshape(target));
    }
}
