using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

// The few TorchSharp modules the layers need beyond TorchSharp's own (combinators run through
// CombinatorModule). Children are registered by name (register_module), so their parameters appear in
// parameters() and state_dict() under the same path the summary shows.

/// <summary>Applies a tensor function; no parameters.</summary>
internal sealed class FunctionModule(string name, Func<Tensor, Tensor> function) : nn.Module<Tensor, Tensor>(name)
{
    public override Tensor forward(Tensor input) => function(input);
}

/// <summary>Runs children one after another.</summary>
internal sealed class SequenceModule : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor>[] steps;

    /// <summary>The steps' modules, in order (one per layer of the sequence).</summary>
    internal IReadOnlyList<nn.Module<Tensor, Tensor>> Steps => steps;

    // Steps that may overwrite their input when no gradient is recorded (see forward), by FreshOutput's rule.
    readonly bool[] inPlace;

    // Convolutions followed by a ReLU, which they may compute themselves (Conv2dModule.ForwardWithRelu); ReLUs
    // followed by a max pool, which it may take in (PlanewiseMaxPoolModule.ForwardAfterRelu).
    readonly bool[] reluNext, poolNext;

    public SequenceModule(IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> named, Sequence sequence) : base("sequence")
    {
        steps = named.Select(c => c.Module).ToArray();
        foreach (var (childName, module) in named) register_module(childName, module);
        inPlace = FreshOutput.ReluSteps(sequence);
        reluNext = FreshOutput.ConvolutionThenRelu(sequence);
        poolNext = FreshOutput.ReluThenMaxPool(sequence);
    }

    public override Tensor forward(Tensor input)
    {
        // Intermediate results are freed as soon as the next layer has used them (the input is the caller's).
        var x = input;
        for (int i = 0; i < steps.Length; i++)
        {
            // Without autograd, a ReLU after a convolution (or anything else that makes a fresh tensor) overwrites
            // that output instead of allocating another activation: one pass less over memory.
            Tensor next;
            // A convolution computes the ReLU after it where its own kernels run, and a 2×2 max pool in training takes
            // in the ReLU before it (no pass over the activations each way for the ReLU, no node of its own); the
            // second step is then done. The two modules' hooks do not run for such a pair.
            if (reluNext[i] && steps[i] is Conv2dModule convolution && convolution.ForwardWithRelu(x) is { } convolvedAndRectified)
            {
                next = convolvedAndRectified;
                i++;
            }
            else if (poolNext[i] && steps[i + 1] is PlanewiseMaxPoolModule pool && pool.ForwardAfterRelu(x) is { } rectifiedAndPooled)
            {
                next = rectifiedAndPooled;
                i++;
            }
            else next = inPlace[i] && !is_grad_enabled() && !ReferenceEquals(x, input) ? x.relu_() : steps[i].call(x);
            if (!ReferenceEquals(x, input) && !ReferenceEquals(next, x)) x.Dispose();
            x = next;
        }
        return x;
    }
}
