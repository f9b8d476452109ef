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
    readonly Dictionary<Layer, LayerRow> rowOf = new(ReferenceEqualityComparer.Instance);
    int counter;

    OnnxExport(Model model)
    {
        var leaves = OnnxImport.Leaves(model.Spec).ToList();
        for (int i = 0; i < leaves.Count; i++) rowOf[leaves[i]] = model.Rows[i];
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (atomically) and returns the ONNX model.</summary>
    public static ModelProto Save(Model model, string path)
    {
        var onnx = ToOnnx(model);
        AtomicFile.Write(path, stream => stream.Write(onnx.ToByteArray()));
        return onnx;
    }

    /// <summary>The ONNX model of <paramref name="model"/>: input "input" [N, …], output "output".</summary>
    public static ModelProto ToOnnx(Model model)
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

    (string Name, Shape Shape) Emit(Layer layer, string input, Shape shape, string path)
    {
        switch (layer)
        {
            case Sequence s:
                var current = (input, shape);
                for (int i = 0; i < s.Layers.Count; i++) current = Emit(s.Layers[i], current.input, current.shape, $"{path}{i}.");
                return current;
            case Named n:
                return Emit(n.Inner, input, shape, path);
            case Residual r:
            {
                var body = Emit(r.Body, input, shape, path + "body.");
                var shortcut = r.Projection is null ? input : Emit(r.Projection, input, shape, path + "projection.").Name;
                return (Add("Add", [body.Name, shortcut]), body.Shape);
            }
            case Concat c:
            {
                var outs = c.Branches.Select((b, i) => Emit(b, input, shape, $"{path}{i}.")).ToList();
                return (Add("Concat", outs.Select(o => o.Name), ("axis", 1L)), layer.OutputShape(shape));
            }
            case Heads h:
            {
                var outs = h.Branches.Select((b, i) => Emit(b, input, shape, $"{path}{i}.")).Select(o => Add("Flatten", [o.Name], ("axis", 1L))).ToList();
                return (Add("Concat", outs, ("axis", 1L)), layer.OutputShape(shape));
            }
            case Skip k:
            {
                var inner = Emit(k.Inner, input, shape, path + "inner.");
                return (Add("Concat", [input, inner.Name], ("axis", 1L)), layer.OutputShape(shape));
            }
            case Auxiliary a:
                return Emit(a.Main, input, shape, path + "main.");
            default:
                return (Leaf(layer, input, shape), layer.OutputShape(shape));
        }
    }

    string Leaf(Layer layer, string x, Shape shape)
    {
        var state = rowOf[layer].Module.state_dict();
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
                throw new NotSupportedException($"layer {rowOf[layer].Path} '{layer}' has no ONNX form here (lambdas, layer norm and GELU are not exported).");
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
