using System.Diagnostics;
using NeuralVision.Tensors;
using NeuralVision.Layers;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>
/// The forward and backward passes of a plain pipeline — 2-D convolutions, ReLUs, 2×2 max pools, flatten, linear
/// layers, as LeNet — run layer by layer by hand instead of recorded and replayed by autograd: each layer's forward
/// keeps what its backward needs, and its backward calls the same kernels the layer's autograd operation calls, so
/// the gradients are autograd's own (tested to the bit against <see cref="Train.Step"/> without it).
/// </summary>
/// <remarks>
/// A training step of LeNet at batch 64 spends about half its time on one core while the other waits: recording the
/// graph, the autograd engine's walk back through it, TorchSharp's managed autograd functions (about 20 µs each way,
/// measured on an identity), the gradients accumulated into the parameters by operations of their own. At batch 1,
/// where the arithmetic is nothing, a step took 1.1 ms. Written out, the backward pass is the kernels alone.
/// Only the loss stays with autograd, on the model's output: any loss works unchanged. Models with anything else
/// (BatchNorm, dropout, combinators) train through autograd as before; so does a batch that a layer's kernels do
/// not take (<see cref="Forward"/> returns null before anything has changed).
/// </remarks>
internal sealed class ManualBackward
{
    /// <summary>One layer: its forward pass, giving a <see cref="Pass"/> (null where its kernels do not take the input).</summary>
    abstract class Stage
    {
        public abstract Pass? Forward(Tensor input);
        /// <summary>What the layer is, as a profile names it.</summary>
        public abstract string Kind { get; }
    }

    /// <summary>
    /// A layer's output, its backward pass (the output's gradient and whether the input's is wanted → the input's
    /// gradient, or null; the parameters' gradients added to their <c>.grad</c>), and the tensors it made and keeps
    /// for that backward pass (its output among them), freed as soon as it has run.
    /// </summary>
    readonly record struct Pass(Tensor Output, Func<Tensor, bool, Tensor?> Backward, params Tensor[] Kept);

    readonly Stage[] stages;
    // Each stage's layers (indices into the pipeline) and what they are, for a LayerTimer.
    readonly (int First, int Last, string Kind)[] described;

    ManualBackward(Stage[] stages, (int, int, string)[] described) => (this.stages, this.described) = (stages, described);

    /// <summary>The passes for <paramref name="model"/>, or null where it is not a pipeline of the layers written out here.</summary>
    public static ManualBackward? For(Model model)
    {
        if (model.Device.type != TorchSharp.DeviceType.CPU || model.Spec is not Sequence sequence || model.Module is not SequenceModule module)
            return null;
        if (module.parameters().Any(p => p.dtype != ScalarType.Float32)) return null;
        var layers = sequence.Layers;
        var steps = module.Steps;
        // The pairs the autograd path merges (SequenceModule): a convolution and its ReLU, a ReLU and a max pool.
        var convolutionThenRelu = FreshOutput.ConvolutionThenRelu(sequence);
        var reluThenMaxPool = FreshOutput.ReluThenMaxPool(sequence);
        var stages = new List<Stage>();
        var described = new List<(int, int, string)>();
        for (int i = 0; i < layers.Count; i++)
        {
            bool reluNext = i + 1 < layers.Count && FreshOutput.IsRelu(layers[i + 1]);
            // A convolution, its ReLU and a max pool: the pool finds the maxima of the ReLU'd values and sends back
            // +0 where a window's maximum is 0 or below, which is the ReLU's gradient at the only place the pool sends
            // anything (ReLU's gradient pass and, where oneDNN convolves, its forward pass are not needed).
            bool reluThenPool = convolutionThenRelu[i] && reluThenMaxPool[i + 1];
            bool afterReluThenPool = i >= 2 && convolutionThenRelu[i - 2] && reluThenMaxPool[i - 1];
            // Where the convolution can pool as it convolves, the three layers are one stage.
            if (reluThenPool && (steps[i], steps[i + 2]) is (Conv2dModule first, PlanewiseMaxPoolModule then) && first.MayPoolDirectly && then.TwoByTwo)
            {
                var merged = new ConvolutionPool(first, then);
                stages.Add(merged);
                described.Add((i, i + 2, merged.Kind));
                i += 2;
                continue;
            }
            Stage? stage = (FreshOutput.Unnamed(layers[i]), steps[i]) switch
            {
                (Conv2d, Conv2dModule conv) => new Convolution(conv, reluNext, reluThenPool),
                (Linear { Bias: true }, TorchSharp.Modules.Linear linear) => new Dense(linear, reluNext),
                (Pool2d { Kind: PoolKind.Max }, PlanewiseMaxPoolModule pool) => new MaxPool(pool, afterReluThenPool),
                (Flatten, _) => new Flattening(),
                (Activation { Kind: ActivationKind.ReLU }, _) => new Rectifier(),
                _ => null,
            };
            if (stage is null) return null;
            stages.Add(stage);
            // A ReLU after a convolution or a linear layer is taken in by it.
            bool takesRelu = reluNext && stage is Convolution or Dense;
            described.Add((i, takesRelu ? i + 1 : i, takesRelu ? stage.Kind + " + ReLU" : stage.Kind));
            if (takesRelu) i++;
        }
        return new ManualBackward([.. stages], [.. described]);
    }

    /// <summary>
    /// The model's output for <paramref name="input"/> and the backward pass from its gradient, which adds each
    /// parameter's gradient to its <c>.grad</c> (as autograd does); null, with nothing changed, where a layer's
    /// kernels do not take this batch.
    /// </summary>
    /// <param name="input">The batch.</param>
    /// <param name="timer">Where to note each stage's time, forward and backward (once the backward pass has run), or null.</param>
    public (Tensor Output, Action<Tensor> Backward)? Forward(Tensor input, LayerTimer? timer = null)
    {
        using var noGrad = no_grad();
        var passes = new Pass[stages.Length];
        var forwardTicks = timer is null ? null : new long[stages.Length];
        var x = input;
        for (int i = 0; i < stages.Length; i++)
        {
            long started = timer is null ? 0 : Stopwatch.GetTimestamp();
            if (stages[i].Forward(x) is not { } pass) return null;
            if (forwardTicks is not null) forwardTicks[i] = Stopwatch.GetTimestamp() - started;
            passes[i] = pass;
            x = pass.Output;
        }
        return (x, outputGradient =>
        {
            using var noGradBack = no_grad();
            var backwardTicks = timer is null ? null : new long[stages.Length];
            Tensor? gradient = outputGradient;
            for (int i = stages.Length - 1; i >= 0 && gradient is not null; i--)
            {
                long started = timer is null ? 0 : Stopwatch.GetTimestamp();
                Tensor? inputGradient;
                // What a layer's backward pass makes on the way (a ReLU's gradient, the parameters' gradients once
                // added) is freed when it returns; what it kept, and the gradient it was given, once it has run, as
                // autograd frees a node's saved tensors (kept to the end of the step, the bench's LeNet child peaked
                // 40–60 MiB higher).
                using (var scope = NewDisposeScope())
                    inputGradient = passes[i].Backward(gradient, i > 0 || input.requires_grad)?.MoveToOuterDisposeScope();
                foreach (var kept in passes[i].Kept) kept.Dispose();
                if (i < stages.Length - 1) gradient.Dispose();
                gradient = inputGradient;
                if (backwardTicks is not null) backwardTicks[i] = Stopwatch.GetTimestamp() - started;
            }
            if (timer is not null) timer.Add(described, forwardTicks!, backwardTicks!);
        });
    }

    /// <summary>Adds <paramref name="gradient"/> to the parameter's gradient, as autograd accumulates it (nothing for a frozen one).</summary>
    static void Accumulate(Tensor? parameter, Tensor? gradient)
    {
        if (parameter is null || gradient is null || !parameter.requires_grad) return;
        if (parameter.grad is { } existing) existing.add_(gradient, FinalizerFree.One);
        else parameter.grad = gradient.clone();
    }

    /// <summary>A 2-D convolution, with the ReLU after it where <paramref name="relu"/>; that ReLU left to the max pool after it where <paramref name="reluByPool"/>.</summary>
    sealed class Convolution(Conv2dModule conv, bool relu, bool reluByPool) : Stage
    {
        public override string Kind => "Conv2d";

        public override Pass? Forward(Tensor input)
        {
            var (weight, bias) = conv.Parameters;
            bool[] Wanted(bool inputWanted) => [inputWanted, weight.requires_grad, bias?.requires_grad ?? false];
            if (conv.Direct(input, weight))
            {
                // Taken in as the outputs are stored, it costs nothing here; the pool's ReLU then changes nothing.
                var (output, padded) = DirectConvolution.Forward(input, weight, bias, conv.Padding, relu);
                return new Pass(output, (gradient, inputWanted) => DirectBackward(conv, padded, gradient, relu && !reluByPool ? output : null, inputWanted),
                    output, padded);
            }
            if (conv.PrimitivesFor(input, weight, bias) is not { } primitives) return null;
            var (plainInput, plainWeight) = (input.contiguous(), weight.contiguous());
            var rectify = relu && !reluByPool;
            // Into the max pool after it, the output goes channels-last, as oneDNN lays it out, and its gradient comes
            // back so: the pool reads and writes that layout (WindowMaxPool), and three reorders are not needed.
            var channelsLast = reluByPool && primitives.ChannelsLastOutput && WindowArgmax.TakesChannelsLast(weight.size(0));
            var result = primitives.Forward(plainInput, plainWeight, bias, channelsLast);
            if (rectify) result.relu_();
            return new Pass(result, (gradient, inputWanted) =>
            {
                gradient = rectify ? ReluGradient.Of(gradient.contiguous(), result)
                    : channelsLast && MemoryLayout.IsChannelsLast(gradient) ? gradient : gradient.contiguous();
                var (inputGradient, weightGradient, biasGradient) = primitives.Backward(plainInput, plainWeight, gradient, Wanted(inputWanted));
                Accumulate(weight, weightGradient);
                Accumulate(bias, biasGradient);
                return inputGradient;
            }, result, plainInput, plainWeight);
        }
    }

    /// <summary>
    /// The backward pass of a convolution <see cref="DirectConvolution"/> computed, from its output's gradient (of its
    /// ReLU's output, given that <paramref name="reluOutput"/>): the parameters' gradients added to their <c>.grad</c>,
    /// the input's returned where wanted.
    /// </summary>
    static Tensor? DirectBackward(Conv2dModule conv, Tensor padded, Tensor outputGradient, Tensor? reluOutput, bool inputWanted)
    {
        var (weight, bias) = conv.Parameters;
        var (inputGradient, weightGradient, biasGradient) = DirectConv2dFunction.Gradients(padded, weight, outputGradient, reluOutput, conv.Padding,
            [inputWanted, weight.requires_grad, bias?.requires_grad ?? false]);
        Accumulate(weight, weightGradient);
        Accumulate(bias, biasGradient);
        return inputGradient;
    }

    /// <summary>
    /// A convolution, its ReLU and the 2×2 max pool after them, where <see cref="DirectConvolution"/> can pool as it
    /// convolves (<see cref="DirectConvolution.ForwardPooled"/>: the convolution's output is never stored, nor read
    /// back by the pool); else the convolution's stage and the pool's, one after the other. The backward pass is theirs.
    /// </summary>
    sealed class ConvolutionPool(Conv2dModule conv, PlanewiseMaxPoolModule pool) : Stage
    {
        readonly Convolution convolution = new(conv, relu: true, reluByPool: true);
        readonly MaxPool maxPool = new(pool, relu: true);

        public override string Kind => "Conv2d + ReLU + MaxPool2d";

        public override Pass? Forward(Tensor input)
        {
            var (weight, bias) = conv.Parameters;
            if (conv.Direct(input, weight) && DirectConvolution.HandlesPooled(input, weight, conv.Padding))
            {
                var (values, places, padded) = DirectConvolution.ForwardPooled(input, weight, bias, conv.Padding);
                long[] outputShape = [values.size(0), values.size(1), 2 * values.size(2), 2 * values.size(3)];
                // Backward, the pool's gradient with its ReLU's, as the pool's stage sends it back; then the convolution's.
                return new Pass(values, (gradient, inputWanted) =>
                    DirectBackward(conv, padded, WindowMaxPool.Gradient(gradient, places, outputShape, values), null, inputWanted),
                    values, places, padded);
            }
            if (convolution.Forward(input) is not { } convolved || maxPool.Forward(convolved.Output) is not { } pooled) return null;
            return new Pass(pooled.Output, (gradient, inputWanted) =>
                pooled.Backward(gradient, true) is { } between ? convolved.Backward(between, inputWanted) : null,
                [.. convolved.Kept, .. pooled.Kept]);
        }
    }

    sealed class Dense(TorchSharp.Modules.Linear linear, bool relu) : Stage
    {
        public override string Kind => "Linear";

        public override Pass? Forward(Tensor input)
        {
            if (input.dim() != 2) return null;
            var (weight, bias) = (linear.weight!, linear.bias!);
            // linear is addmm(bias, input, weightᵀ); its backward below is addmm's, operation for operation.
            var output = nn.functional.linear(input, weight, bias);
            if (relu) output.relu_();
            return new Pass(output, (gradient, inputWanted) =>
            {
                if (relu) gradient = ReluGradient.Of(gradient.contiguous(), output);
                // The weight's gradient is (inputᵀ·gradient)ᵀ, as addmm's backward forms it; added as gradientᵀ·input
                // straight into .grad (the same products, summed in the same order: equal to the bit in the tests),
                // instead of adding a transposed matrix element by strided element (fc1: 0.037 against 0.089 ms).
                if (weight.requires_grad)
                {
                    if (weight.grad is { } existing) existing.addmm_(gradient.t(), input);
                    else weight.grad = gradient.t().mm(input);
                }
                if (bias.requires_grad) Accumulate(bias, gradient.sum([0L]));
                return inputWanted ? gradient.mm(weight) : null;
            }, output);
        }
    }

    /// <summary>A max pool; of the ReLU'd input, that ReLU's gradient included, where <paramref name="relu"/> (the ReLU between a convolution and this pool).</summary>
    sealed class MaxPool(PlanewiseMaxPoolModule pool, bool relu) : Stage
    {
        public override string Kind => "MaxPool2d";

        public override Pass? Forward(Tensor input)
        {
            if (!pool.TakesWindows(input, channelsLast: true)) return null;
            var shape = input.Sizes();
            var (values, indices) = WindowMaxPool.Pooled(input, relu);
            return new Pass(values, (gradient, inputWanted) => inputWanted ? WindowMaxPool.Gradient(gradient, indices, shape, relu ? values : null) : null,
                values, indices);
        }
    }

    sealed class Flattening : Stage
    {
        public override string Kind => "Flatten";

        public override Pass? Forward(Tensor input)
        {
            var shape = input.Sizes();
            var output = input.flatten(1);
            return new Pass(output, (gradient, inputWanted) => inputWanted ? gradient.reshape(shape) : null, output);
        }
    }

    sealed class Rectifier : Stage
    {
        public override string Kind => "ReLU";

        public override Pass? Forward(Tensor input)
        {
            var output = input.relu();
            return new Pass(output, (gradient, inputWanted) => inputWanted ? ReluGradient.Of(gradient.contiguous(), output) : null, output);
        }
    }
}
