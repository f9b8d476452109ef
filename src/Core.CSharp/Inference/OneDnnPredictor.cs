using NeuralVision.Tensors;
using NeuralVision.Layers;
using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Inference;

/// <summary>
/// Prediction through oneDNN for a model rewritten for inference (<see cref="Model.ForInference"/>): its graph is
/// read once, and a plan (<see cref="InferencePlan"/>) is made for each batch size it meets (the last few kept).
/// Batches go through in slices whose activations fit <see cref="MemoryBudget"/>. Not for several threads at once:
/// a plan's buffers are its own, so predictions take turns.
/// </summary>
internal sealed class OneDnnPredictor : IDisposable
{
    /// <summary>The activation memory one slice's plan is sized for.</summary>
    public const long MemoryBudget = 256L << 20;
    const int PlansKept = 3;

    readonly InferenceGraph graph;
    readonly Shape input, output;
    readonly IntPtr engine, stream;
    readonly List<InferencePlan> plans = [];
    readonly object running = new();

    /// <summary>
    /// The most samples one plan runs at once: as many as the activation buffers of a one-sample plan fit into
    /// <see cref="MemoryBudget"/> that many times, at most <see cref="Model.PredictionSlice"/>.
    /// </summary>
    public long Slice => slice ??= Math.Clamp(MemoryBudget / Math.Max(1, PlanFor(1).BufferBytes), 1, Model.PredictionSlice);
    long? slice;

    /// <summary>What runs the predictions, for <see cref="Model.InferenceEngine"/>.</summary>
    public string Description { get; }

    OneDnnPredictor(InferenceGraph graph, Shape input, Shape output)
    {
        (this.graph, this.input, this.output) = (graph, input, output);
        (engine, stream) = OneDnn.CreateEngine();
        var fused = graph.Operations.Count(o => o.Sum is not null || o.Relu);
        var winograd = graph.Operations.Count(o => o.Layer is Conv2d { Kernel: 3, Stride: 1, Dilation: 1 });
        Description = $"oneDNN {OneDnn.VersionText}: {graph.Operations.Count} operations ({fused} with a fused add or ReLU; {winograd} 3×3 stride-1 convolutions, by Winograd's algorithm where oneDNN has it)";
    }

    /// <summary>A predictor for a model in evaluation mode on the CPU, or null and why not.</summary>
    public static (OneDnnPredictor? Predictor, string? WhyNot) TryCreate(Model model, nn.Module<Tensor, Tensor> module)
    {
        if (model.Device.type != TorchSharp.DeviceType.CPU) return (null, $"the model is on {model.Device}; oneDNN plans run on the CPU");
        if (model.Input.Rank is not (1 or 3)) return (null, $"inputs of shape {model.Input} (plans take [C, H, W] images or vectors)");
        if (OneDnn.Missing is { } missing) return (null, missing);
        // A snapshot: the plans read these weights whenever they are made, whatever happens to the model's.
        var parameters = module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().contiguous().clone().DetachFromDisposeScope());
        if (parameters.Values.Any(t => t.dtype != ScalarType.Float32)) return (null, "parameters other than float32");
        var (graph, unsupported) = InferenceGraph.Read(model.Spec, model.Input, parameters);
        return graph is null ? (null, unsupported) : (new OneDnnPredictor(graph, model.Input, model.Output), null);
    }

    /// <summary>The outputs for a batch [N, …input] on the CPU, in slices of at most <see cref="Slice"/>.</summary>
    public Tensor Predict(Tensor batch)
    {
        lock (running)
        {
            using var scope = NewDisposeScope();
            var x = batch.contiguous();
            var n = x.size(0);
            var result = empty([n, .. output], float32);
            OneDnn.omp_set_num_threads(get_num_threads());
            for (long start = 0; start < n; start += Slice)
            {
                var count = Math.Min(Slice, n - start);
                PlanFor(count).Run(x.narrow(0, start, count), result.narrow(0, start, count));
            }
            return result.MoveToOuterDisposeScope();
        }
    }

    /// <summary>One pass over a batch of at most <see cref="Slice"/> samples, each step timed.</summary>
    public IReadOnlyList<(string Path, string Kind, double Milliseconds)> Profile(Tensor batch)
    {
        lock (running)
        {
            using var scope = NewDisposeScope();
            var x = batch.contiguous();
            if (x.size(0) > Slice) throw new ArgumentException($"a profile takes one slice: at most {Slice} samples, not {x.size(0)}.");
            OneDnn.omp_set_num_threads(get_num_threads());
            return PlanFor(x.size(0)).Profile(x, empty([x.size(0), .. output], float32));
        }
    }

    InferencePlan PlanFor(long batch)
    {
        var plan = plans.FirstOrDefault(p => p.Batch == batch);
        if (plan is not null) return plan;
        if (plans.Count == PlansKept) { plans[0].Dispose(); plans.RemoveAt(0); }
        plan = new InferencePlan(graph, batch, engine, stream);
        plans.Add(plan);
        return plan;
    }

    /// <summary>Whether a batch can go through the plans: float data of the model's input shape on the CPU.</summary>
    public bool Takes(Tensor batch) =>
        batch.device_type == TorchSharp.DeviceType.CPU && batch.dim() == input.Rank + 1 && batch.Sizes().Skip(1).SequenceEqual(input)
        && batch.dtype == ScalarType.Float32;

    public void Dispose()
    {
        lock (running)
        {
            foreach (var p in plans) p.Dispose();
            plans.Clear();
        }
    }
}
