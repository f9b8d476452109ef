using Google.Protobuf;
using NeuralVision.Layers;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Vision;

/// <summary>
/// Writes a built model to ONNX (opset 13) as it computes in evaluation mode: Conv, ConvTranspose, Gemm,
/// Relu, LeakyRelu, Tanh, Sigmoid, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, Add,
/// Concat, Flatten, Reshape, Softmax, LogSoftmax, Dropout, Resize, DepthToSpace. Auxiliary heads are left
/// out (they only run in training). A layer ONNX cannot express (a lambda, layer norm, GELU) is an error naming it.
/// </summary>
public sealed class OnnxExport
{
    const string InputName = "input";
    const string OutputName = "output";

    readonly GraphProto graph = new() { Name = "neuralvision" };
    readonly Dictionary<string, LayerRow> rowAt;
    int counter;

    OnnxExport(Model model) => rowAt = model.Rows.ToDictionary(r => r.Path);

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> as ONNX (atomically: a failure leaves no file).</summary>
    public static void Save(Model model, string path)
    {
        var onnx = ToOnnx(model);
        AtomicFile.Write(path, stream => stream.Write(onnx.ToByteArray()));
    }

    /// <summary>The ONNX model of <paramref name="model"/>: input "input" [N, …], output "output".</summary>
    internal static ModelProto ToOnnx(Model model)
    {
        var export = new OnnxExport(model);
        var (output, shape) = export.Emit(model.Spec, InputName, model.Input, "");
        export.graph.Node.Add(Node("Identity", [output], [OutputName]));
        export.graph.Input.Add(Value(InputName, model.Input));
        export.graph.Output.Add(Value(OutputName, shape));
        var result = new ModelProto { IrVersion = 8, ProducerName = "NeuralVision", Graph = export.graph };
        result.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return result;
    }

    // Combinators are read through their wiring (evaluation mode: auxiliary heads are left out); leaves map to nodes.
    (string Name, Shape Shape) Emit(Layer layer, string input, Shape shape, string path) => layer switch
    {
        Combinator c => c.Wire(new OnnxWiring(this, c, path), (input, shape)),
        Named n => Emit(n.Inner, input, shape, path),
        _ => (Leaf(layer, input, shape, path), layer.OutputShape(shape)),
    };

    /// <summary>A combinator's wiring read as ONNX nodes: each value is a graph name with its sample shape.</summary>
    sealed class OnnxWiring(OnnxExport export, Combinator owner, string path) : IWiring<(string Name, Shape Shape)>
    {
        public bool Training => false;
        readonly IReadOnlyList<(string Name, Layer Layer)> children = owner.Children;
        public (string Name, Shape Shape) Child(int index, (string Name, Shape Shape) input) =>
            export.Emit(children[index].Layer, input.Name, input.Shape, Combinator.ChildPath(path, children, index));
        public (string Name, Shape Shape) Add((string Name, Shape Shape) a, (string Name, Shape Shape) b) => (export.Add("Add", [a.Name, b.Name]), a.Shape);
        public (string Name, Shape Shape) Multiply((string Name, Shape Shape) a, (string Name, Shape Shape) b) => (export.Add("Mul", [a.Name, b.Name]), a.Shape);
        public (string Name, Shape Shape) Concat(IReadOnlyList<(string Name, Shape Shape)> parts) =>
            (export.Add("Concat", parts.Select(p => p.Name), ("axis", 1L)), parts[0].Shape.With(0, parts.Sum(p => p.Shape[0])));
        public (string Name, Shape Shape) Flatten((string Name, Shape Shape) value) => (export.Add("Flatten", [value.Name], ("axis", 1L)), new Shape(value.Shape.Elements));
    }

    string Leaf(Layer layer, string x, Shape shape, string path)
    {
        var state = rowAt[path].Module.state_dict();
        string W(string name) => Initialiser(state[name]);
        switch (layer)
        {
            case Linear l:
                return Add("Gemm", l.Bias ? [x, W("weight"), W("bias")] : [x, W("weight")], ("transB", 1L));
            case Conv2d c:
                return Add("Conv", c.Bias ? [x, W("weight"), W("bias")] : [x, W("weight")],
                    ("kernel_shape", new[] { c.Kernel, c.Kernel }), ("strides", new[] { c.Stride, c.Stride }),
                    ("pads", new[] { c.Padding, c.Padding, c.Padding, c.Padding }), ("dilations", new[] { c.Dilation, c.Dilation }), ("group", c.Groups));
            case ConvTranspose2d t:
                return Add("ConvTranspose", t.Bias ? [x, W("weight"), W("bias")] : [x, W("weight")],
                    ("kernel_shape", new[] { t.Kernel, t.Kernel }), ("strides", new[] { t.Stride, t.Stride }),
                    ("pads", new[] { t.Padding, t.Padding, t.Padding, t.Padding }), ("output_padding", new[] { t.OutputPadding, t.OutputPadding }));
            case Pool2d p:
            {
                var stride = p.Stride ?? p.Kernel;
                var attributes = new List<(string, object)>
                {
                    ("kernel_shape", new[] { p.Kernel, p.Kernel }), ("strides", new[] { stride, stride }),
                    ("pads", new[] { p.Padding, p.Padding, p.Padding, p.Padding }), ("ceil_mode", p.CeilMode ? 1L : 0L),
                };
                if (p.Kind == PoolKind.Average) attributes.Add(("count_include_pad", 1L)); // PyTorch's default
                return Add(p.Kind == PoolKind.Max ? "MaxPool" : "AveragePool", [x], attributes.ToArray());
            }
            case AdaptiveAvgPool2d { Height: 1, Width: 1 }:
                return Add("GlobalAveragePool", [x]);
            case AdaptiveAvgPool2d a when shape[1] % a.Height == 0 && shape[2] % a.Width == 0:
            {
                long kh = shape[1] / a.Height, kw = shape[2] / a.Width;
                return Add("AveragePool", [x], ("kernel_shape", new[] { kh, kw }), ("strides", new[] { kh, kw }));
            }
            case GlobalAvgPool:
                return Add("Flatten", [Add("GlobalAveragePool", [x])], ("axis", 1L));
            case Flatten:
                return Add("Flatten", [x], ("axis", 1L));
            case Reshape r:
                return Add("Reshape", [x, Initialiser(tensor(r.OutputShape(shape).WithBatch(0)))]);
            case Dropout or Dropout2d:
                return Add("Dropout", [x]);
            case BatchNorm1d or BatchNorm2d:
                return Add("BatchNormalization", [x, W("weight"), W("bias"), W("running_mean"), W("running_var")],
                    ("epsilon", (float)(layer is BatchNorm2d b2 ? b2.Eps : ((BatchNorm1d)layer).Eps)));
            case Activation { Kind: ActivationKind.ReLU }:
                return Add("Relu", [x]);
            case Activation { Kind: ActivationKind.LeakyReLU } leaky:
                return Add("LeakyRelu", [x], ("alpha", (float)leaky.Slope));
            case Activation { Kind: ActivationKind.Sigmoid }:
                return Add("Sigmoid", [x]);
            case Activation { Kind: ActivationKind.Tanh }:
                return Add("Tanh", [x]);
            case Softmax s:
                return Add(s.Log ? "LogSoftmax" : "Softmax", [x], ("axis", (long)s.Dim + 1));
            case Upsample u:
            {
                var scales = Initialiser(tensor(new float[] { 1, 1, u.Scale, u.Scale }));
                return u.Mode == Layers.UpsampleMode.Nearest
                    ? Add("Resize", [x, "", scales], ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"))
                    : Add("Resize", [x, "", scales], ("mode", "linear"), ("coordinate_transformation_mode", "half_pixel"));
            }
            case PixelShuffle ps:
                return Add("DepthToSpace", [x], ("blocksize", ps.Factor), ("mode", "CRD"));
            case Identity:
                return Add("Identity", [x]);
            default:
                throw new NotSupportedException($"layer {path} '{layer}' has no ONNX form here (lambdas, layer norm and GELU are not exported).");
        }
    }

    string Add(string op, IEnumerable<string> inputs, params (string Name, object Value)[] attributes)
    {
        var output = $"{op.ToLowerInvariant()}_{counter++}";
        graph.Node.Add(Node(op, inputs, [output], attributes));
        return output;
    }

    static NodeProto Node(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{outputs.First()}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes)
        {
            var a = new AttributeProto { Name = name };
            switch (value)
            {
                case long i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
                case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
                case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
                case long[] ints: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints); break;
                default: throw new ArgumentException($"attribute {name}: {value.GetType().Name}");
            }
            node.Attribute.Add(a);
        }
        return node;
    }

    string Initialiser(Tensor value)
    {
        var name = $"w_{counter++}";
        using var cpu = value.detach().cpu().contiguous();
        var proto = new TensorProto { Name = name };
        proto.Dims.AddRange(cpu.shape);
        if (cpu.dtype == ScalarType.Int64)
        {
            proto.DataType = (int)TensorProto.Types.DataType.Int64;
            proto.RawData = ByteString.CopyFrom(cpu.data<long>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
        }
        else
        {
            using var f = cpu.to_type(ScalarType.Float32);
            proto.DataType = (int)TensorProto.Types.DataType.Float;
            var floats = f.data<float>().ToArray();
            var bytes = new byte[floats.Length * 4];
            Buffer.BlockCopy(floats, 0, bytes, 0, bytes.Length);
            proto.RawData = ByteString.CopyFrom(bytes);
        }
        graph.Initializer.Add(proto);
        return name;
    }

    static ValueInfoProto Value(string name, Shape shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var d in shape) tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
