using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralVision.Optim;

/// <summary>
/// An optimiser as a value: the update rule, its algorithm and hyper-parameters, immutable and comparable.
/// Training makes from it an updater (TorchSharp's optimiser, which holds the per-weight state and
/// changes the weights in place); the update rules are TorchSharp's, which follow PyTorch's step for
/// step (tested against PyTorch).
/// </summary>
public abstract record Optimiser
{
    /// <summary>The base learning rate.</summary>
    public abstract double LearningRate { get; }

    /// <summary>The same optimiser with another learning rate.</summary>
    public abstract Optimiser WithLearningRate(double lr);

    /// <summary>
    /// The updater over groups of parameters, each with its own learning rate (one group at <see cref="LearningRate"/>
    /// in the common case; a new head faster than a pretrained backbone in transfer learning).
    /// </summary>
    internal abstract optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups);

    /// <summary>The updater over one group of parameters at <see cref="LearningRate"/>.</summary>
    internal optim.Optimizer CreateUpdater(IEnumerable<Parameter> parameters) => CreateUpdater([(parameters, LearningRate)]);

    /// <summary>
    /// Minimises a plain function of a parameter vector from <paramref name="start"/> for
    /// <paramref name="steps"/> steps in float64; returns the path, the start point first.
    /// </summary>
    public double[][] Minimise(Func<Tensor, Tensor> function, double[] start, int steps)
    {
        Native.TorchNative.EnsureLoaded();
        using var w = new Parameter(tensor(start, dtype: float64));
        using var optimizer = CreateUpdater([w]);
        var path = new double[steps + 1][];
        path[0] = (double[])start.Clone();
        for (int i = 1; i <= steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            function(w).backward();
            optimizer.step();
            path[i] = w.detach().data<double>().ToArray();
        }
        return path;
    }
}

/// <summary>Stochastic gradient descent, with momentum (heavy ball or Nesterov) and L2 weight decay.</summary>
public sealed record Sgd(double Lr, double Momentum = 0, double Dampening = 0, bool Nesterov = false, double WeightDecay = 0) : Optimiser
{
    /// <inheritdoc/>
    public override double LearningRate => Lr;
    /// <inheritdoc/>
    public override Optimiser WithLearningRate(double lr) => this with { Lr = lr };
    internal override optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups) =>
        Nesterov && (Momentum <= 0 || Dampening != 0) ? throw new ArgumentException("Nesterov momentum needs momentum > 0 and dampening 0.") :
        optim.SGD(groups.Select(g => new SGD.ParamGroup(g.Parameters, g.Lr, Momentum, Dampening, WeightDecay, Nesterov)), Lr, Momentum, Dampening, WeightDecay, Nesterov);
}

/// <summary>Resilient propagation: per-weight step sizes grown or shrunk by the sign of successive gradients.</summary>
public sealed record Rprop(double Lr = 0.01, double EtaMinus = 0.5, double EtaPlus = 1.2, double MinStep = 1e-6, double MaxStep = 50) : Optimiser
{
    /// <inheritdoc/>
    public override double LearningRate => Lr;
    /// <inheritdoc/>
    public override Optimiser WithLearningRate(double lr) => this with { Lr = lr };
    internal override optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups) =>
        optim.Rprop(groups.Select(g => new TorchSharp.Modules.Rprop.ParamGroup(g.Parameters, g.Lr, EtaMinus, EtaPlus, MinStep, MaxStep)), Lr, EtaMinus, EtaPlus, MinStep, MaxStep);
}

/// <summary>RMSprop: steps scaled by a moving average of squared gradients; optionally centred and with momentum.</summary>
/// <remarks>TorchSharp's RMSProp parameter group takes eps before alpha (its optim.RMSProp the other way round): named arguments.</remarks>
public sealed record RmsProp(double Lr = 0.01, double Alpha = 0.99, double Eps = 1e-8, double WeightDecay = 0, double Momentum = 0, bool Centered = false) : Optimiser
{
    /// <inheritdoc/>
    public override double LearningRate => Lr;
    /// <inheritdoc/>
    public override Optimiser WithLearningRate(double lr) => this with { Lr = lr };
    internal override optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups) =>
        optim.RMSProp(groups.Select(g => new RMSProp.ParamGroup(g.Parameters, lr: g.Lr, eps: Eps, alpha: Alpha, weight_decay: WeightDecay, momentum: Momentum, centered: Centered)), Lr, Alpha, Eps, WeightDecay, Momentum, Centered);
}

/// <summary>Adagrad: steps scaled by the root of the sum of all squared gradients so far.</summary>
public sealed record Adagrad(double Lr = 0.01, double LrDecay = 0, double WeightDecay = 0, double Eps = 1e-10) : Optimiser
{
    /// <inheritdoc/>
    public override double LearningRate => Lr;
    /// <inheritdoc/>
    public override Optimiser WithLearningRate(double lr) => this with { Lr = lr };
    internal override optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups) =>
        optim.Adagrad(groups.Select(g => new TorchSharp.Modules.Adagrad.ParamGroup(g.Parameters, g.Lr, LrDecay, WeightDecay, 0, Eps)), Lr, LrDecay, WeightDecay, 0, Eps);
}

/// <summary>Adam: momentum and RMSprop with bias correction; L2 weight decay added to the gradient; optional AMSGrad.</summary>
public sealed record Adam(double Lr = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0, bool Amsgrad = false) : Optimiser
{
    /// <inheritdoc/>
    public override double LearningRate => Lr;
    /// <inheritdoc/>
    public override Optimiser WithLearningRate(double lr) => this with { Lr = lr };
    internal override optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups) =>
        new FusedAdam(groups.Select(g => new TorchSharp.Modules.Adam.ParamGroup(g.Parameters, g.Lr, Beta1, Beta2, Eps, WeightDecay, Amsgrad)), Lr, Beta1, Beta2, Eps, WeightDecay, Amsgrad);
}

/// <summary>AdamW: Adam with decoupled weight decay (PyTorch's default decay 0.01).</summary>
public sealed record AdamW(double Lr = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0.01, bool Amsgrad = false) : Optimiser
{
    /// <inheritdoc/>
    public override double LearningRate => Lr;
    /// <inheritdoc/>
    public override Optimiser WithLearningRate(double lr) => this with { Lr = lr };
    internal override optim.Optimizer CreateUpdater(IReadOnlyList<(IEnumerable<Parameter> Parameters, double Lr)> groups) =>
        optim.AdamW(groups.Select(g => new TorchSharp.Modules.AdamW.ParamGroup(g.Parameters, g.Lr, Beta1, Beta2, Eps, WeightDecay, Amsgrad)), Lr, Beta1, Beta2, Eps, WeightDecay, Amsgrad);
}
