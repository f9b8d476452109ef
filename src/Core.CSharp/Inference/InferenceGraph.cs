using NeuralVision.Layers;
using static TorchSharp.torch;

namespace NeuralVision.Inference;

/// <summary>What an operation of an inference graph computes.</summary>
internal enum OperationKind { Convolution, InnerProduct, Pooling, Relu, Add, Flatten }

/// <summary>
/// One operation of an inference graph: it reads values (by number; 0 is the model's input) and makes one.
/// A convolution or linear layer may carry the operations fused into it: a value added to its output before
/// the ReLU (<paramref name="Sum"/>, a residual's shortcut) and the ReLU itself.
/// </summary>
internal sealed record Operation(OperationKind Kind, string Path, IReadOnlyList<int> Inputs, int Output, Layer? Layer = null,
    Tensor? Weight = null, Tensor? Bias = null, int? Sum = null, bool Relu = false);

/// <summary>
/// A model in evaluation mode as a graph of a few operations that oneDNN runs (convolution, linear, pooling,
/// ReLU, add, flatten), read from the layer tree with the same wiring every other tool reads (a combinator's
/// <see cref="Combinator.Wire{T}"/> over value numbers), then fused as ONNX Runtime fuses a graph it loads:
/// a ReLU into the convolution or linear layer before it, a residual add into the convolution that ends the
/// body. A layer this cannot express makes <see cref="Read"/> say which and where.
/// </summary>
internal sealed class InferenceGraph
{
    /// <summary>The operations in an order that runs (every input made before it is read).</summary>
    public IReadOnlyList<Operation> Operations { get; }
    /// <summary>The shape of one sample of each value.</summary>
    public IReadOnlyList<Shape> Shapes { get; }
    /// <summary>The value the model gives.</summary>
    public int Output { get; }

    InferenceGraph(IReadOnlyList<Operation> operations, IReadOnlyList<Shape> shapes, int output) =>
        (Operations, Shapes, Output) = (operations, shapes, output);

    /// <summary>The graph of a model's layers over its parameters, fused; or why it cannot be made.</summary>
    public static (InferenceGraph? Graph, string? Unsupported) Read(Layer root, Shape input, IReadOnlyDictionary<string, Tensor> parameters)
    {
        var reader = new Reader(parameters, input);
        try
        {
            var output = reader.Layer(root, "", 0);
            var operations = FuseRelus(FuseAdds(reader.Operations, output), output);
            return (new InferenceGraph(operations, reader.Shapes, output), null);
        }
        catch (UnsupportedLayerException e) { return (null, e.Message); }
    }

    sealed class UnsupportedLayerException(string message) : Exception(message);

    sealed class Reader(IReadOnlyDictionary<string, Tensor> parameters, Shape input)
    {
        public readonly List<Operation> Operations = [];
        public readonly List<Shape> Shapes = [input];

        int Emit(OperationKind kind, string path, IReadOnlyList<int> inputs, Shape shape, Layer? layer = null, Tensor? weight = null, Tensor? bias = null)
        {
            Shapes.Add(shape);
            Operations.Add(new Operation(kind, path, inputs, Shapes.Count - 1, layer, weight, bias));
            return Shapes.Count - 1;
        }

        public int Layer(Layer layer, string path, int value)
        {
            var shape = Shapes[value];
            static UnsupportedLayerException Unsupported(Layer layer, string path, string why) =>
                new($"'{layer.Describe()}' at '{(path.Length == 0 ? "(the model)" : path)}' {why}");
            switch (layer)
            {
                case Named named: return Layer(named.Inner, path, value);
                case Combinator combinator: return combinator.Wire(new Wiring(this, combinator, path), value);
                case Identity or Dropout or Dropout2d: return value;
                case Conv2d conv when conv.Groups == 1:
                    return Emit(OperationKind.Convolution, path, [value], conv.OutputShape(shape, path), conv, parameters[$"{path}.weight"], parameters.GetValueOrDefault($"{path}.bias"));
                case Linear linear when shape.Rank == 1:
                    return Emit(OperationKind.InnerProduct, path, [value], linear.OutputShape(shape, path), linear, parameters[$"{path}.weight"], parameters.GetValueOrDefault($"{path}.bias"));
                case Activation { Kind: ActivationKind.ReLU }: return Emit(OperationKind.Relu, path, [value], shape);
                case Pool2d pool when pool.Kind == PoolKind.Max || !pool.CeilMode:
                    return Emit(OperationKind.Pooling, path, [value], pool.OutputShape(shape, path), pool);
                case AdaptiveAvgPool2d { Height: 1, Width: 1 } adaptive:
                    return Emit(OperationKind.Pooling, path, [value], adaptive.OutputShape(shape, path), adaptive);
                case GlobalAvgPool global:
                    var pooled = Emit(OperationKind.Pooling, path, [value], new Shape(shape[0], 1, 1), global);
                    return Emit(OperationKind.Flatten, path, [pooled], new Shape(shape[0]));
                case Flatten when shape.Rank == 3: return Emit(OperationKind.Flatten, path, [value], new Shape(shape.Elements));
                case Flatten: return value;
                default: throw Unsupported(layer, path, "has no oneDNN operation here");
            }
        }

        /// <summary>A combinator's wiring read on value numbers: children become operations, joins become adds.</summary>
        sealed class Wiring(Reader reader, Combinator owner, string path) : IWiring<int>
        {
            readonly IReadOnlyList<(string Name, Layer Layer)> children = owner.Children;
            public bool Training => false;
            public int Child(int index, int input) => reader.Layer(children[index].Layer, Combinator.ChildPath(path, children, index), input);
            public int Add(int a, int b) => reader.Emit(OperationKind.Add, path, [a, b], reader.Shapes[a]);
            public int Multiply(int a, int b) => throw new UnsupportedLayerException($"'{owner.Describe()}' at '{path}' multiplies values, which these plans do not");
            public int Concat(IReadOnlyList<int> parts) => throw new UnsupportedLayerException($"'{owner.Describe()}' at '{path}' concatenates values, which these plans do not");
            public int Flatten(int value) =>
                reader.Shapes[value].Rank == 1 ? value : reader.Emit(OperationKind.Flatten, path, [value], new Shape(reader.Shapes[value].Elements));
        }
    }

    static int ReadersOf(IReadOnlyList<Operation> operations, int value) =>
        operations.Sum(o => o.Inputs.Count(i => i == value) + (o.Sum == value ? 1 : 0));

    /// <summary>
    /// An add whose one side is the output of a convolution that nothing else reads becomes that convolution's sum
    /// post-operation (oneDNN adds the other side into the output as it writes it); the convolution moves to the
    /// add's place, after the other side is made.
    /// </summary>
    static List<Operation> FuseAdds(List<Operation> operations, int output)
    {
        var result = operations.ToList();
        for (int i = 0; i < result.Count; i++)
        {
            if (result[i].Kind != OperationKind.Add) continue;
            var add = result[i];
            foreach (var (side, other) in new[] { (add.Inputs[0], add.Inputs[1]), (add.Inputs[1], add.Inputs[0]) })
            {
                var producer = result.FindIndex(o => o.Output == side);
                if (producer < 0 || side == output || side == other) continue;
                var conv = result[producer];
                if (conv.Kind != OperationKind.Convolution || conv.Sum is not null || conv.Relu || ReadersOf(result, side) != 1) continue;
                result[i] = conv with { Output = add.Output, Sum = other };
                result.RemoveAt(producer);
                i--;
                break;
            }
        }
        return result;
    }

    /// <summary>A ReLU on the output of a convolution or linear layer that nothing else reads becomes its post-operation.</summary>
    static List<Operation> FuseRelus(List<Operation> operations, int output)
    {
        var result = operations.ToList();
        for (int i = 0; i < result.Count; i++)
        {
            if (result[i].Kind != OperationKind.Relu) continue;
            var value = result[i].Inputs[0];
            var producer = result.FindIndex(o => o.Output == value);
            if (producer < 0 || value == output || ReadersOf(result, value) != 1) continue;
            var before = result[producer];
            if (before.Kind is not (OperationKind.Convolution or OperationKind.InnerProduct) || before.Relu) continue;
            result[producer] = before with { Output = result[i].Output, Relu = true };
            result.RemoveAt(i);
            i--;
        }
        return result;
    }
}
