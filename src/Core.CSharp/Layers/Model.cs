using System.Text;
using NeuralVision.Native;
using Devices = NeuralVision.Tensors.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>A tensor of a model under its path, e.g. <c>0.weight</c>.</summary>
/// <param name="Path">The parameter's path.</param>
/// <param name="Value">The tensor itself (the model's own, not a copy).</param>
public sealed record NamedTensor(string Path, Tensor Value);

/// <summary>One step of a prediction and its time (<see cref="Model.ProfilePrediction"/>).</summary>
/// <param name="Path">The layer it computes (a reorder: the layer it prepares for).</param>
/// <param name="Operation">What it does, e.g. <c>convolution (Winograd) 3x3 + add + ReLU</c>.</param>
/// <param name="Milliseconds">How long it took.</param>
public sealed record OperationTime(string Path, string Operation, double Milliseconds);

/// <summary>
/// A layer value built against an input shape: every size inferred and checked, the TorchSharp
/// module created (parameters initialised as PyTorch does) on a device. The module is the mutable
/// part — training changes its parameters in place — while <see cref="Spec"/> stays the value it was.
/// </summary>
public sealed class Model
{
    /// <summary>The layer value this model was built from.</summary>
    public Layer Spec { get; }
    /// <summary>The shape of one input sample.</summary>
    public Shape Input { get; }
    /// <summary>The shape of one output sample.</summary>
    public Shape Output { get; }
    /// <summary>The TorchSharp module behind the model (reach it from outside through <see cref="TorchSharpEscape"/>).</summary>
    internal nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>Whether the model is in training mode (dropout on, BatchNorm on batch statistics).</summary>
    public bool IsTraining => Module.training;

    /// <summary>
    /// The parameters by path (e.g. <c>0.weight</c>), in order. The tensors are the model's own: read them,
    /// or change them under <c>no_grad</c> to set weights by hand; their gradients are in <c>.grad</c>.
    /// </summary>
    public IReadOnlyList<NamedTensor> Parameters =>
        Module.named_parameters().Select(p => new NamedTensor(p.name, p.parameter)).ToList();
    /// <summary>The leaves in order, with paths and output shapes, as <see cref="Summary"/> prints them.</summary>
    public IReadOnlyList<LayerRow> Rows { get; }
    /// <summary>The device the parameters live on.</summary>
    public Device Device { get; }

    // Every layer of the tree, leaf or combinator, with its path, shapes and module (for Part and Slice).
    readonly IReadOnlyList<ModelPart> parts;

    Model(Layer spec, Shape input, Shape output, nn.Module<Tensor, Tensor> module, IReadOnlyList<LayerRow> rows, IReadOnlyList<ModelPart> parts, Device device)
    {
        Spec = spec;
        Input = input;
        Output = output;
        Module = module;
        Rows = rows;
        this.parts = parts;
        Device = device;
        convolutional = parts.Any(p => p.Layer is Conv2d);
    }

    /// <summary>
    /// The part of the model at <paramref name="path"/> (e.g. <c>encoder</c>, <c>layer1.0</c>) as a model of
    /// its own that shares this one's parameters: training either trains both. An unknown path is refused
    /// with the paths there are.
    /// </summary>
    public Model Part(string path)
    {
        var part = parts.LastOrDefault(p => p.Path == path)
            ?? throw new ArgumentException($"no part at path '{path}'; the paths are: {string.Join(", ", parts.Select(p => p.Path).Where(p => p.Length > 0).Distinct().Take(20))}.");
        var under = parts.Where(p => PathStartsWith(p.Path, path)).Select(p => p with { Path = Relative(p.Path, path) }).ToList();
        var rows = Rows.Where(r => PathStartsWith(r.Path, path)).Select(r => r with { Path = Relative(r.Path, path) }).ToList();
        return new Model(part.Layer, part.Input, part.Output, part.Module, rows, under, Device);
    }

    /// <summary>
    /// The layers <paramref name="start"/> … <paramref name="end"/> − 1 of a pipeline model as a model of its own,
    /// sharing this one's parameters (e.g. the features before a classifier head: <c>Slice(0, n − 1)</c>).
    /// </summary>
    public Model Slice(int start, int end)
    {
        if (Spec is not Sequence sequence)
            throw new ArgumentException($"only a pipeline can be sliced by index; this model is a single '{Spec.Describe()}'.");
        if (start < 0 || end > sequence.Count || start >= end)
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {end}) is not a non-empty range of the {sequence.Count} layers (0..{sequence.Count}).");
        var children = sequence.Children;
        var chosen = Enumerable.Range(start, end - start).Select(i => parts.Last(p => p.Path == children[i].Name)).ToList();
        var modules = chosen.Select(p => (p.Path, p.Module)).ToList();
        var rows = Rows.Where(r => chosen.Any(p => PathStartsWith(r.Path, p.Path))).ToList();
        var under = parts.Where(p => chosen.Any(c => PathStartsWith(p.Path, c.Path))).ToList();
        var spec = sequence.Slice(start, end - start);
        var module = new SequenceModule(modules, spec);
        under.Insert(0, new ModelPart("", spec, chosen[0].Input, chosen[^1].Output, module));
        return new Model(spec, chosen[0].Input, chosen[^1].Output, module, rows, under, Device);
    }

    static string Relative(string path, string prefix) =>
        prefix.Length == 0 ? path : path == prefix ? "" : path[(prefix.Length + 1)..];

    /// <summary>
    /// Builds <paramref name="layer"/> for samples of shape <paramref name="input"/> (no batch dimension)
    /// on <paramref name="device"/> (the process default when null). A shape misfit throws
    /// <see cref="ShapeException"/> before any parameter is created.
    /// </summary>
    public static Model Build(Layer layer, Shape input, Device? device = null)
    {
        TorchNative.EnsureLoaded();
        layer.OutputShape(input); // every misfit is found before anything is allocated
        var target = device ?? Devices.Default;
        var built = layer.Build(input, "");
        if (target.type != DeviceType.CPU) built.Module.to(target);
        return new Model(layer, input, built.Output, built.Module, built.Rows, built.Parts, target);
    }

    // Prediction with a convolutional model on the CPU runs on channels-last batches (see MemoryLayout): measured on
    // ResNet-18 inference, the convolutions and the max-pool are faster so. Training keeps libtorch's usual layout,
    // where the convolutions' backward passes measured faster.
    readonly bool convolutional;

    Tensor InPredictionLayout(Tensor batch) =>
        convolutional && Device.type == DeviceType.CPU && batch.dim() == 4 && batch.size(1) > 1
            ? Tensors.MemoryLayout.ToChannelsLast(batch) : batch;

    /// <summary>Runs the model on a batch [N, …input] (recording gradients when the caller does).</summary>
    public Tensor Forward(Tensor batch) => Module.call(batch);

    /// <summary>
    /// This model rewritten for prediction, as ONNX Runtime rewrites a graph when it loads one: each BatchNorm
    /// right after a convolution is folded into the convolution's weights and bias (with the running statistics
    /// as they are now), so the pass it makes over every activation disappears. The result is a new model with
    /// its own copy of the weights, frozen and in evaluation mode, for <see cref="Predict"/> and export; this
    /// model is unchanged (train it further, then fold again). On the CPU its <see cref="Predict"/> runs oneDNN
    /// plans when every layer has a oneDNN operation (see <see cref="InferenceEngine"/>), over a snapshot of the
    /// weights taken here. Its outputs equal this model's up to float rounding (folded weights, Winograd's algorithm;
    /// within 1e-5 relative in the tests).
    /// </summary>
    public Model ForInference()
    {
        var (layer, pairs) = BatchNormFolding.Fold(Spec);
        var folded = Build(layer, Input, Device);
        var source = Module.state_dict();
        var target = folded.Module.state_dict();
        using (no_grad())
            foreach (var (name, tensor) in target)
                if (source.TryGetValue(name, out var value)) tensor.copy_(value);
        BatchNormFolding.FoldValues(source, target, pairs);
        folded.FreezeInPlace();
        folded.Eval();
        var (predictor, whyNot) = Inference.OneDnnPredictor.TryCreate(folded, folded.Module);
        folded.predictor = predictor;
        folded.InferenceEngine = predictor?.Description ?? $"libtorch ({whyNot})";
        return folded;
    }

    /// <summary>
    /// Where <see cref="Predict"/> spends its time on <paramref name="batch"/> when oneDNN plans run it: one pass, each
    /// step timed (its layer path, what it does — a convolution with what is fused into it, a pool, a reorder between
    /// memory formats — and milliseconds), as ONNX Runtime's profiler reports a run. A model predicted through libtorch
    /// is profiled per layer with forward hooks instead (<c>./nv bench profile</c>).
    /// </summary>
    public IReadOnlyList<OperationTime> ProfilePrediction(Tensor batch) =>
        predictor is not null && predictor.Takes(batch)
            ? predictor.Profile(batch).Select(t => new OperationTime(t.Path, t.Kind, t.Milliseconds)).ToList()
            : throw new InvalidOperationException($"this model predicts through {InferenceEngine}, which has no per-step profile; time its layers with forward hooks.");

    // Prediction through oneDNN plans, for a model made by ForInference when every layer has a oneDNN operation.
    Inference.OneDnnPredictor? predictor;

    /// <summary>
    /// What runs <see cref="Predict"/>: for a model made by <see cref="ForInference"/>, oneDNN plans where every layer
    /// has a oneDNN operation (convolutions by Winograd's algorithm where it applies, ReLUs and residual adds fused
    /// into the convolutions, memory formats chosen per operation), otherwise libtorch, with the reason.
    /// </summary>
    public string InferenceEngine { get; private set; } = "libtorch (a model not rewritten by ForInference)";

    /// <summary>
    /// The model's output for a batch in evaluation mode, under libtorch's inference mode (no autograd
    /// bookkeeping at all, cheaper than no_grad). The result cannot take part in training.
    /// </summary>
    /// <remarks>
    /// A batch of more than <see cref="PredictionSlice"/> samples goes through in slices of that many, each in its own
    /// dispose scope, and the outputs are joined: in evaluation mode every sample's output is its own, and the
    /// memory of a pass then stays that of one slice.
    /// </remarks>
    public Tensor Predict(Tensor batch) => predictor is not null && predictor.Takes(batch) ? predictor.Predict(batch) : InEvaluationMode(() =>
    {
        using var inference = inference_mode();
        var count = batch.dim() == 0 ? 1 : batch.size(0);
        if (count <= PredictionSlice) return PredictOne(batch);
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        for (long start = 0; start < count; start += PredictionSlice)
            outputs.Add(PredictOne(batch.narrow(0, start, Math.Min(PredictionSlice, count - start))));
        return cat(outputs, 0).MoveToOuterDisposeScope();
    });

    /// <summary>
    /// The most samples <see cref="Predict"/> runs through the network at once. libtorch's convolution unfolds its
    /// whole input (LeNet's first convolution at batch 1,000 took a 78 MB workspace), so a pass's memory grows with
    /// the batch while its speed barely does. Measured on LeNet, 10,000 images in batches of 1,000: the bench's
    /// training-and-inference process peaked at 564 MiB with slices of 512 against 607–617 MiB without (532 MiB with
    /// slices of 256), and inference took 395–429 ms against 374–390 ms (one process, alternating; 444–456 ms with 256).
    /// </summary>
    public const long PredictionSlice = 512;

    Tensor PredictOne(Tensor batch)
    {
        // The batch's copies (to the device, to channels-last) and the pass's activations are freed here.
        using var scope = NewDisposeScope();
        var output = Module.call(InPredictionLayout(batch.device == Device ? batch : batch.to(Device)));
        return ReferenceEquals(output, batch) ? output : output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs <paramref name="read"/> with the model in evaluation mode, then puts back the mode it found:
    /// evaluation, prediction and summaries leave training where it was.
    /// </summary>
    public T InEvaluationMode<T>(Func<T> read)
    {
        var wasTraining = Module.training;
        Eval();
        try { return read(); }
        finally { if (wasTraining) Train(); }
    }

    /// <summary>All parameter values.</summary>
    public long ParameterCount => Module.parameters().Sum(p => p.numel());
    /// <summary>The parameter values training changes (not frozen).</summary>
    public long TrainableCount => Module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    // BatchNorm layers kept on their running statistics even in training (frozen for feature extraction).
    readonly HashSet<nn.Module> fixedStatistics = [];

    /// <summary>Puts the model in training mode (dropout active, BatchNorm on batch statistics, except frozen ones).</summary>
    public void Train()
    {
        Module.train();
        foreach (var m in fixedStatistics) m.eval();
    }

    /// <summary>
    /// Freezes, in place, the parameters of the layers whose path starts with <paramref name="pathPrefix"/>
    /// ("" = all): training leaves them as they are. Their BatchNorm layers also keep their running
    /// statistics. A model's parameters are shared native tensors, so this changes this model (and every
    /// training state over it) rather than returning a new one. Returns the number of parameter values frozen.
    /// </summary>
    public long FreezeInPlace(string pathPrefix = "") => FreezeInPlace(r => PathStartsWith(r.Path, pathPrefix));

    /// <summary>Freezes, in place, the layers a predicate picks (see <see cref="FreezeInPlace(string)"/>).</summary>
    public long FreezeInPlace(Func<LayerRow, bool> pick) => SetTrainable(pick, false);

    /// <summary>Makes the layers under <paramref name="pathPrefix"/> trainable again ("" = all), in place.</summary>
    public long UnfreezeInPlace(string pathPrefix = "") => UnfreezeInPlace(r => PathStartsWith(r.Path, pathPrefix));

    /// <summary>Makes the layers a predicate picks trainable again, in place.</summary>
    public long UnfreezeInPlace(Func<LayerRow, bool> pick) => SetTrainable(pick, true);

    long SetTrainable(Func<LayerRow, bool> pick, bool trainable)
    {
        var rows = Rows.Where(pick).ToList();
        if (rows.Count == 0)
            throw new ArgumentException($"no layer matches; the paths are: {string.Join(", ", Rows.Select(r => r.Path).Take(12))}{(Rows.Count > 12 ? ", …" : "")}.");
        long count = 0;
        foreach (var row in rows)
        {
            foreach (var p in row.Module.parameters())
            {
                p.requires_grad = trainable;
                count += p.numel();
            }
            if (row.Module is TorchSharp.Modules.BatchNorm1d or TorchSharp.Modules.BatchNorm2d)
            {
                if (trainable) { fixedStatistics.Remove(row.Module); row.Module.train(Module.training); }
                else { fixedStatistics.Add(row.Module); row.Module.eval(); }
            }
        }
        return count;
    }

    /// <summary>Whether a layer path lies under a prefix, segment by segment ("layer1" covers "layer1.0.conv1", not "layer10").</summary>
    public static bool PathStartsWith(string path, string prefix) =>
        prefix.Length == 0 || path == prefix || path.StartsWith(prefix + ".", StringComparison.Ordinal);
    /// <summary>Puts the model in evaluation mode (dropout off, BatchNorm on running statistics).</summary>
    public void Eval() => Module.eval();

    /// <summary>A Keras-like table: layer path and description, output shape, parameters, trainable; then the totals.</summary>
    public string Summary()
    {
        var header = ("layer", "output shape", "params", "trainable");
        var lines = Rows.Select(r => (
            Layer: r.Path.Length == 0 ? r.Layer : $"{r.Path} {r.Layer}",
            Output: "(N, " + string.Join(", ", r.Output) + ")",
            Params: r.Parameters.ToString("N0"),
            Trainable: r.Trainable.ToString("N0"))).ToList();
        int w1 = Math.Max(header.Item1.Length, lines.Select(l => l.Layer.Length).DefaultIfEmpty().Max());
        int w2 = Math.Max(header.Item2.Length, lines.Select(l => l.Output.Length).DefaultIfEmpty().Max());
        int w3 = Math.Max(header.Item3.Length, lines.Select(l => l.Params.Length).DefaultIfEmpty().Max());
        int w4 = Math.Max(header.Item4.Length, lines.Select(l => l.Trainable.Length).DefaultIfEmpty().Max());
        var rule = new string('─', w1 + w2 + w3 + w4 + 6);
        var text = new StringBuilder();
        text.AppendLine($"input: (N, {string.Join(", ", Input)})");
        text.AppendLine(rule);
        text.AppendLine($"{header.Item1.PadRight(w1)}  {header.Item2.PadRight(w2)}  {header.Item3.PadLeft(w3)}  {header.Item4.PadLeft(w4)}");
        text.AppendLine(rule);
        foreach (var l in lines)
            text.AppendLine($"{l.Layer.PadRight(w1)}  {l.Output.PadRight(w2)}  {l.Params.PadLeft(w3)}  {l.Trainable.PadLeft(w4)}");
        text.AppendLine(rule);
        text.AppendLine($"trainable params: {TrainableCount:N0}");
        text.AppendLine($"frozen params: {ParameterCount - TrainableCount:N0}");
        text.Append($"total params: {ParameterCount:N0}");
        return text.ToString();
    }
}
