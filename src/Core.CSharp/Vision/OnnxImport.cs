using Google.Protobuf;
using NeuralVision.Layers;
using Onnx;
using static TorchSharp.torch;

namespace NeuralVision.Vision;

/// <summary>An ONNX file cannot be read into a model; the message names the node and what is unsupported.</summary>
public sealed class OnnxImportException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads a convolutional ONNX graph (Conv, BatchNormalization, Relu, MaxPool, AveragePool, Add, Flatten,
/// Gemm) into a DSL pipeline, residual joins (Add) becoming <see cref="Residual"/> blocks, and its
/// initialisers into the built model's parameters — so the result trains like any other model.
/// </summary>
public sealed class OnnxImport
{
    readonly GraphProto graph;
    readonly string source;
    readonly Dictionary<string, TensorProto> initialisers;
    readonly Dictionary<string, List<NodeProto>> consumers;
    // The ONNX node behind each leaf layer made here, in the order Model.Build lists the leaves.
    readonly Dictionary<Layer, NodeProto> nodeOf = new(ReferenceEqualityComparer.Instance);

    /// <summary>The pipeline the graph describes.</summary>
    public Layer Layer { get; }
    /// <summary>The graph's input shape without the batch dimension (e.g. 3x224x224).</summary>
    public Shape Input { get; }

    OnnxImport(ModelProto model, string source)
    {
        graph = model.Graph;
        this.source = source;
        initialisers = graph.Initializer.ToDictionary(i => i.Name);
        consumers = graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).GroupBy(p => p.i).ToDictionary(g => g.Key, g => g.Select(p => p.n).Distinct().ToList());
        var input = graph.Input.First(i => !initialisers.ContainsKey(i.Name));
        Input = Shape.Of(input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        var output = graph.Output[0].Name;
        Layer = Chain(input.Name, output);
    }

    /// <summary>Reads an ONNX file.</summary>
    public static OnnxImport Read(string path)
    {
        if (!File.Exists(path)) throw new OnnxImportException($"{path}: no such ONNX file.");
        try { return new OnnxImport(ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)), path); }
        catch (InvalidProtocolBufferException e) { throw new OnnxImportException($"{path} is not a readable ONNX model: {e.Message}", e); }
    }

    /// <summary>Builds the pipeline for the graph's input shape on the CPU and loads the graph's weights into it.</summary>
    public Model Build()
    {
        var model = Model.Build(Layer, Input, CPU);
        Load(model);
        return model;
    }

    /// <summary>Loads the graph's weights into a model built from <see cref="Layer"/> (any input size).</summary>
    public void Load(Model model)
    {
        var leaves = LayerTree.Leaves(model.Spec).Select(l => l.Layer).ToList();
        if (leaves.Count != model.Rows.Count)
            throw new OnnxImportException($"{source}: the model has {model.Rows.Count} layers, the graph's pipeline {leaves.Count}; build it from this import's Layer.");
        using var noGrad = no_grad();
        for (int i = 0; i < leaves.Count; i++)
        {
            if (!nodeOf.TryGetValue(leaves[i], out var node)) continue;
            var state = model.Rows[i].Module.state_dict();
            switch (node.OpType)
            {
                case "Conv":
                    Copy(state["weight"], node.Input[1]);
                    if (node.Input.Count > 2) Copy(state["bias"], node.Input[2]);
                    break;
                case "BatchNormalization":
                    Copy(state["weight"], node.Input[1]);
                    Copy(state["bias"], node.Input[2]);
                    Copy(state["running_mean"], node.Input[3]);
                    Copy(state["running_var"], node.Input[4]);
                    break;
                case "Gemm":
                    Copy(state["weight"], node.Input[1]);
                    if (node.Input.Count > 2) Copy(state["bias"], node.Input[2]);
                    break;
            }
        }
    }


    /// <summary>The pipeline from tensor <paramref name="from"/> to tensor <paramref name="to"/>.</summary>
    Layer Chain(string from, string to) => Chain([], from, to);

    /// <summary>The pipeline that starts with node <paramref name="first"/> (one branch of a fork) and ends at tensor <paramref name="to"/>.</summary>
    Layer ChainFrom(NodeProto first, string to) => Chain([Leaf(first)], first.Output[0], to);

    Layer Chain(List<Layer> layers, string from, string to)
    {
        var current = from;
        while (current != to)
        {
            var next = Consumers(current);
            if (next.Count == 1 && next[0].OpType != "Add")
            {
                layers.Add(Leaf(next[0]));
                current = next[0].Output[0];
            }
            else
            {
                var (block, output) = ResidualFrom(current, next);
                layers.Add(block);
                current = output;
            }
        }
        return layers.Count == 1 ? layers[0] : Net.Sequence(layers.ToArray());
    }

    /// <summary>A residual block starting at a branch point: the Add that joins its branches ends it.</summary>
    (Layer Block, string Output) ResidualFrom(string branchPoint, List<NodeProto> next)
    {
        var add = next.FirstOrDefault(n => n.OpType == "Add") is { } direct
            ? direct // the identity shortcut: the branch point feeds the Add itself
            : JoinOf(next);
        var other = add.Input.First(i => i != branchPoint);
        if (add.Input.Contains(branchPoint))
            return (new Residual(ChainFrom(next.Single(n => n != add), other)), add.Output[0]);
        // Two computed branches: the longer is the body, the shorter the projection.
        NodeProto StartOf(string end) => next.Single(n => Reaches(n, end));
        var (a, b) = (add.Input[0], add.Input[1]);
        var (pathA, pathB) = (ChainFrom(StartOf(a), a), ChainFrom(StartOf(b), b));
        bool aLonger = LayerTree.Leaves(pathA).Count() >= LayerTree.Leaves(pathB).Count();
        return (new Residual(aLonger ? pathA : pathB, aLonger ? pathB : pathA), add.Output[0]);
    }

    /// <summary>Whether following single consumers from <paramref name="node"/> reaches tensor <paramref name="tensor"/> before any Add.</summary>
    bool Reaches(NodeProto node, string tensor)
    {
        for (var n = node; ; n = Consumers(n.Output[0])[0])
        {
            if (n.Output[0] == tensor) return true;
            if (n.OpType == "Add" || !consumers.ContainsKey(n.Output[0]) || Consumers(n.Output[0]).Count != 1) return false;
        }
    }

    NodeProto JoinOf(List<NodeProto> starts)
    {
        if (starts.Count != 2)
            throw new OnnxImportException($"{source}: tensor {starts.FirstOrDefault()?.Input[0]} feeds {starts.Count} nodes; only chains and two-branch residual blocks are supported.");
        IEnumerable<NodeProto> Downstream(NodeProto n)
        {
            for (var node = n; node is not null; node = Consumers(node.Output[0]).FirstOrDefault())
            {
                yield return node;
                if (node.OpType == "Add") yield break;
            }
        }
        var firstAdds = Downstream(starts[0]).Where(n => n.OpType == "Add");
        return firstAdds.FirstOrDefault(add => Downstream(starts[1]).Contains(add))
            ?? throw new OnnxImportException($"{source}: the branches from {starts[0].Input[0]} do not meet in an Add.");
    }

    List<NodeProto> Consumers(string tensor) =>
        consumers.TryGetValue(tensor, out var list) ? list
            : throw new OnnxImportException($"{source}: tensor {tensor} is used by no node; the graph does not reach its output from here.");

    Layer Leaf(NodeProto node)
    {
        Layer layer = node.OpType switch
        {
            "Conv" => Conv(node),
            "BatchNormalization" => new BatchNorm2d(Momentum: 1 - Float(node, "momentum", 0.9f), Eps: Float(node, "epsilon", 1e-5f)),
            "Relu" => new Activation(ActivationKind.ReLU),
            "MaxPool" => Pool(node, PoolKind.Max),
            "AveragePool" => Pool(node, PoolKind.Average),
            "GlobalAveragePool" => new AdaptiveAvgPool2d(1, 1),
            "Flatten" => new Flatten(),
            "Gemm" when Int(node, "transB", 0) == 1 => new Linear(initialisers[node.Input[1]].Dims[0], Bias: node.Input.Count > 2),
            _ => throw new OnnxImportException($"{source}: node {node.Name} ({node.OpType}) is not supported; supported: Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm (transB), Add."),
        };
        nodeOf[layer] = node;
        return layer;
    }

    Layer Conv(NodeProto node)
    {
        var weight = initialisers[node.Input[1]];
        var kernel = Ints(node, "kernel_shape", [weight.Dims[2], weight.Dims[3]]);
        if (kernel[0] != kernel[1]) throw new OnnxImportException($"{source}: node {node.Name} has a {kernel[0]}x{kernel[1]} kernel; only square kernels are supported.");
        return new Conv2d(weight.Dims[0], kernel[0], Stride: Ints(node, "strides", [1])[0], Padding: Padding(node), Dilation: Ints(node, "dilations", [1])[0],
            Groups: Int(node, "group", 1), Bias: node.Input.Count > 2);
    }

    Layer Pool(NodeProto node, PoolKind kind)
    {
        var kernel = Ints(node, "kernel_shape", []);
        return new Pool2d(kind, kernel[0], Ints(node, "strides", [kernel[0]])[0], Padding(node));
    }

    /// <summary>
    /// ONNX allows different padding at the start and end (CNTK writes 3,3,2,2 for a 7×7/2 stem); a symmetric
    /// padding equal to the start gives the same output wherever the extra end padding is never reached,
    /// which holds when both give the same output size — checked when the model is built against the graph's input.
    /// </summary>
    long Padding(NodeProto node)
    {
        var pads = Ints(node, "pads", [0, 0, 0, 0]);
        if (pads[0] != pads[1]) throw new OnnxImportException($"{source}: node {node.Name} pads height and width differently ({string.Join(",", pads)}).");
        if (pads.Length == 4 && pads[2] > pads[0])
            throw new OnnxImportException($"{source}: node {node.Name} pads its end more than its start ({string.Join(",", pads)}); not supported.");
        return pads[0];
    }

    void Copy(Tensor target, string name)
    {
        if (!initialisers.TryGetValue(name, out var proto)) throw new OnnxImportException($"{source}: initialiser {name} is missing.");
        var values = proto.FloatData.Count > 0 ? proto.FloatData.ToArray()
            : Enumerable.Range(0, proto.RawData.Length / 4).Select(i => BitConverter.ToSingle(proto.RawData.Span.Slice(4 * i, 4))).ToArray();
        if (values.Length != target.numel())
            throw new OnnxImportException($"{source}: initialiser {name} holds {values.Length} values where the layer needs {target.numel()} ({string.Join("x", target.shape)}).");
        using var t = tensor(values, target.shape);
        target.copy_(t);
    }

    static long[] Ints(NodeProto node, string name, long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.Ints.ToArray() : fallback;
    static long Int(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;
    static float Float(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;
}
