using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Layers;

// The few TorchSharp modules the combinators need beyond TorchSharp's own. Children are registered
// by name (register_module), so their parameters appear in parameters() and state_dict() under
// the same path the summary shows.

/// <summary>Applies a tensor function; no parameters.</summary>
internal sealed class FunctionModule(string name, Func<Tensor, Tensor> function) : nn.Module<Tensor, Tensor>(name)
{
    public override Tensor forward(Tensor input) => function(input);
}

/// <summary>Runs children one after another.</summary>
internal sealed class SequenceModule : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor>[] steps;

    public SequenceModule(IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> named) : base("sequence")
    {
        steps = named.Select(c => c.Module).ToArray();
        foreach (var (childName, module) in named) register_module(childName, module);
    }

    public override Tensor forward(Tensor input)
    {
        // Intermediate results are freed as soon as the next layer has used them (the input is the caller's).
        var x = input;
        for (int i = 0; i < steps.Length; i++)
        {
            var next = steps[i].forward(x);
            if (!ReferenceEquals(x, input) && !ReferenceEquals(next, x)) x.Dispose();
            x = next;
        }
        return x;
    }
}

/// <summary>Runs every branch on the same input and concatenates their outputs along <c>dim</c>.</summary>
internal sealed class ConcatModule : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor>[] branches;
    readonly long dim;
    readonly bool flattenFirst;

    public ConcatModule(string name, IReadOnlyList<nn.Module<Tensor, Tensor>> branches, long dim, bool flattenFirst) : base(name)
    {
        this.branches = branches.ToArray();
        this.dim = dim;
        this.flattenFirst = flattenFirst;
        for (int i = 0; i < this.branches.Length; i++) register_module(i.ToString(), this.branches[i]);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = branches.Select(b => flattenFirst ? b.forward(input).flatten(1) : b.forward(input)).ToArray();
        return cat(outputs, dim).MoveToOuterDisposeScope();
    }
}

/// <summary>body(x) + x, or body(x) + projection(x) when the shapes differ.</summary>
internal sealed class ResidualModule : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> body;
    readonly nn.Module<Tensor, Tensor>? projection;

    public ResidualModule(nn.Module<Tensor, Tensor> body, nn.Module<Tensor, Tensor>? projection) : base("residual")
    {
        this.body = body;
        this.projection = projection;
        register_module("body", body);
        if (projection is not null) register_module("projection", projection);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var result = body.forward(input).add(projection is null ? input : projection.forward(input));
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>cat(x, inner(x)) along channels: the U-Net skip connection.</summary>
internal sealed class SkipModule : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> inner;

    public SkipModule(nn.Module<Tensor, Tensor> inner) : base("skip")
    {
        this.inner = inner;
        register_module("inner", inner);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return cat([input, inner.forward(input)], 1).MoveToOuterDisposeScope();
    }
}

/// <summary>main(x), plus aux(x) beside it (flattened) in training mode only.</summary>
internal sealed class AuxiliaryModule : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> main;
    readonly nn.Module<Tensor, Tensor> aux;

    public AuxiliaryModule(nn.Module<Tensor, Tensor> main, nn.Module<Tensor, Tensor> aux) : base("auxiliary")
    {
        this.main = main;
        this.aux = aux;
        register_module("main", main);
        register_module("aux", aux);
    }

    public override Tensor forward(Tensor input)
    {
        if (!training) return main.forward(input);
        using var scope = NewDisposeScope();
        return cat([main.forward(input).flatten(1), aux.forward(input).flatten(1)], 1).MoveToOuterDisposeScope();
    }
}
