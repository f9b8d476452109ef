using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>Passes its input on unchanged.</summary>
public sealed record Identity : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => "identity";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "") => input;
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.Identity();
}

/// <summary>
/// A layer from any tensor function (batch first, no parameters). Its output shape is found by
/// running the function once on a zero sample when the model is built; a failure there is reported
/// as a shape error naming the layer.
/// </summary>
/// <param name="Name">The name shown in summaries and errors.</param>
/// <param name="Function">The function, applied to [batch, …] tensors.</param>
public sealed record Lambda(string Name, Func<Tensor, Tensor> Function) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => Name;

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        try
        {
            var output = Function(zeros(input.WithBatch(1)));
            if (output.dim() < 2 || output.shape[0] != 1)
                throw new ShapeException(path, Describe(), input, "a function that keeps the batch dimension first", $"it returned shape [{string.Join(", ", output.shape)}] for a batch of 1");
            return Shape.Of(output.shape.Skip(1));
        }
        catch (Exception e) when (e is not ShapeException)
        {
            throw new ShapeException(path, Describe(), input, "an input its function accepts", $"the function failed: {e.Message.Split('\n')[0]}");
        }
    }

    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => new FunctionModule(Name, Function);
}
