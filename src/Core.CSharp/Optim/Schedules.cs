namespace NeuralVision.Optim;

/// <summary>
/// Learning-rate schedules as pure functions of the epoch (or step), with PyTorch's closed forms.
/// They are applied by the training run (<c>Schedule</c> callback, or per step for one-cycle).
/// </summary>
public abstract record Schedule
{
    /// <summary>Whether the rate changes every step (one-cycle) rather than every epoch.</summary>
    public virtual bool PerStep => false;

    /// <summary>The learning rate for 0-based <paramref name="index"/> (epoch, or step when <see cref="PerStep"/>) from the base rate.</summary>
    public abstract double At(int index, double baseLr);
}

/// <summary>StepLR: multiply by <paramref name="Gamma"/> every <paramref name="StepSize"/> epochs.</summary>
public sealed record StepDecay(int StepSize, double Gamma = 0.1) : Schedule
{
    /// <inheritdoc/>
    public override double At(int index, double baseLr) => baseLr * Math.Pow(Gamma, index / StepSize);
}

/// <summary>CosineAnnealingLR: from the base rate down to <paramref name="EtaMin"/> along half a cosine over <paramref name="TMax"/> epochs.</summary>
public sealed record Cosine(int TMax, double EtaMin = 0) : Schedule
{
    /// <inheritdoc/>
    public override double At(int index, double baseLr) => EtaMin + (baseLr - EtaMin) * (1 + Math.Cos(Math.PI * index / TMax)) / 2;
}

/// <summary>
/// OneCycleLR (two phases, cosine): per step, from max/<paramref name="DivFactor"/> up to
/// <paramref name="MaxLr"/> over the first <paramref name="PctStart"/> of the steps, then down to
/// max/(DivFactor·<paramref name="FinalDivFactor"/>). The base rate is ignored. Momentum is not cycled.
/// </summary>
public sealed record OneCycle(double MaxLr, int TotalSteps, double PctStart = 0.3, double DivFactor = 25, double FinalDivFactor = 1e4) : Schedule
{
    /// <inheritdoc/>
    public override bool PerStep => true;

    /// <inheritdoc/>
    public override double At(int index, double baseLr)
    {
        var initial = MaxLr / DivFactor;
        var final = initial / FinalDivFactor;
        var warmEnd = PctStart * TotalSteps - 1;
        var end = TotalSteps - 1.0;
        var step = Math.Min(index, TotalSteps - 1);
        return step <= warmEnd
            ? Anneal(initial, MaxLr, step / warmEnd)
            : Anneal(MaxLr, final, (step - warmEnd) / (end - warmEnd));
    }

    static double Anneal(double from, double to, double fraction) => to + (from - to) / 2 * (Math.Cos(Math.PI * fraction) + 1);
}

/// <summary>
/// ReduceLROnPlateau as a value: when the monitored value has not improved (by a relative
/// <paramref name="Threshold"/>) for more than <paramref name="Patience"/> epochs, multiply the rate by
/// <paramref name="Factor"/> (not below <paramref name="MinLr"/>), then wait <paramref name="Cooldown"/> epochs.
/// </summary>
public sealed record ReduceOnPlateau(double Factor = 0.1, int Patience = 10, double Threshold = 1e-4, bool HigherIsBetter = false, double MinLr = 0, int Cooldown = 0)
{
    /// <summary>What the schedule remembers between epochs.</summary>
    /// <param name="Best">The best value so far.</param>
    /// <param name="BadEpochs">Epochs since the last improvement.</param>
    /// <param name="CooldownLeft">Epochs left before bad epochs count again.</param>
    /// <param name="Lr">The current learning rate.</param>
    public sealed record State(double Best, int BadEpochs, int CooldownLeft, double Lr);

    /// <summary>The state before the first epoch.</summary>
    public State Start(double lr) => new(HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity, 0, 0, lr);

    /// <summary>The state after an epoch whose monitored value is <paramref name="value"/>.</summary>
    public State Next(State s, double value)
    {
        bool better = HigherIsBetter ? value > s.Best * (1 + Threshold) : value < s.Best * (1 - Threshold);
        var best = better ? value : s.Best;
        var bad = better ? 0 : s.BadEpochs + 1;
        var cooldown = Math.Max(0, s.CooldownLeft - 1);
        if (s.CooldownLeft > 0) bad = 0;
        if (bad > Patience)
        {
            var lr = Math.Max(s.Lr * Factor, MinLr);
            return new State(best, 0, Cooldown, s.Lr - lr > 1e-8 ? lr : s.Lr);
        }
        return new State(best, bad, cooldown, s.Lr);
    }
}
