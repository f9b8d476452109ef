using NeuralVision.Tensors;
using NeuralVision.Data;
using NeuralVision.Distributed;
using System.Collections.Immutable;
using System.Diagnostics;
using NeuralVision.Layers;
using NeuralVision.Losses;
using NeuralVision.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>Is told about the steps of a run, e.g. to draw a progress bar.</summary>
public interface ITrainingObserver
{
    /// <summary>An epoch starts; <paramref name="steps"/> is its number of steps when known.</summary>
    void EpochStarted(int epoch, int? steps);
    /// <summary>A step has finished.</summary>
    void StepFinished(TrainState state);
    /// <summary>An epoch has finished.</summary>
    void EpochFinished(EpochResult result);
}

/// <summary>
/// Training as a fold: <see cref="Step"/> : state → batch → state; an epoch is a fold of
/// <see cref="Step"/> over the epoch's batches; a run is the lazy sequence of epoch results
/// (Run). Early stopping, checkpoints and schedules are functions over that sequence
/// (see Callbacks). A run changes its model as it goes: enumerate it once.
/// </summary>
public static class Train
{
    /// <summary>
    /// The state before the first step: an optimiser over the model's trainable parameters, the
    /// loss, and options. <paramref name="stepSchedule"/> must be per-step (one-cycle); epoch schedules
    /// are applied with Callbacks.Schedule.
    /// </summary>
    /// <remarks>
    /// With <paramref name="flatten"/> (the default) the trainable parameters of each group share one buffer
    /// (<see cref="FlatParameters"/>): the same updates to the bit, with far fewer operations per step.
    /// To train on several ranks, continue with <see cref="TrainState.WithRanks"/>.
    /// </remarks>
    public static TrainState Start(Model model, Optimiser optimiser, Loss loss, double? clipGradNorm = null, Schedule? stepSchedule = null,
        IReadOnlyList<(string PathPrefix, double Lr)>? groups = null, bool flatten = true)
    {
        var trainable = model.Module.parameters().Where(p => p.requires_grad).ToList();
        if (trainable.Count == 0)
            throw new ArgumentException("the model has no trainable parameters (all frozen?); unfreeze some before training.");
        if (stepSchedule is { PerStep: false })
            throw new ArgumentException($"{stepSchedule} changes the rate per epoch; apply it to the run with Callbacks.Schedule instead.");
        var updater = groups is null
            ? optimiser.CreateUpdater(flatten ? [FlatParameters.Flatten(trainable)] : trainable)
            : optimiser.CreateUpdater(GroupsByPath(model, groups)
                .Select(g => (flatten ? [FlatParameters.Flatten(g.Parameters.ToList())] : g.Parameters, g.Lr)).ToList());
        return new TrainState(model, updater, loss)
        {
            ClipGradNorm = clipGradNorm,
            StepSchedule = stepSchedule is null ? null : (stepSchedule, optimiser.LearningRate),
        };
    }

    /// <summary>
    /// One optimisation step on one batch: forward, loss, backward, (clip), step. Runs in a dispose
    /// scope, so nothing but the parameters and the optimiser's state outlives it; an owned batch is
    /// freed too. A NaN or infinite loss throws <see cref="TrainingDivergedException"/> before any weight changes.
    /// </summary>
    public static TrainState Step(TrainState state, Batch batch)
    {
        using var scope = NewDisposeScope();
        try
        {
            state.EnsureLive("take a training step");
            var device = state.Model.Device;
            var inputs = batch.Inputs.device == device ? batch.Inputs : batch.Inputs.to(device);
            var targets = batch.Targets.device == device ? batch.Targets : batch.Targets.to(device);
            state.Updater.zero_grad();
            Tensor loss;
            // A plain pipeline's passes written out (null: autograd's graph of the whole model); the loss's gradient
            // written out too where the loss has one (cross-entropy), else autograd's on the model's output.
            (Tensor Output, Action<Tensor> Backward)? manual = null;
            Tensor? output = null, outputGradient = null;
            try
            {
                manual = state.Autograd || state.Manual is not { } passes ? null : passes.Forward(inputs, state.LayerTimer);
                if (manual is { } run && state.Loss.ValueAndGradient(run.Output, targets) is var (writtenLoss, gradient))
                    (loss, outputGradient) = (writtenLoss, gradient);
                else
                {
                    output = manual is { } pass ? pass.Output.detach().requires_grad_() : state.Model.Forward(inputs);
                    loss = state.Loss.Compute(output, targets);
                }
            }
            catch (Exception e) when (BatchTooLargeException.IsAllocationFailure(e))
            {
                throw new BatchTooLargeException(batch.Count, BatchTooLargeException.FirstLine(e), e);
            }
            var value = FinalizerFree.Value(loss);
            if (!double.IsFinite(value))
                throw new TrainingDivergedException(Math.Max(1, state.Epoch), state.Step + 1, value, state.LastLoss);
            try
            {
                if (outputGradient is null) loss.backward();
                if (manual is { } run) run.Backward(outputGradient ?? output!.grad ?? zeros_like(output!));
            }
            catch (Exception e) when (BatchTooLargeException.IsAllocationFailure(e))
            {
                throw new BatchTooLargeException(batch.Count, BatchTooLargeException.FirstLine(e), e);
            }
            DataParallel.AverageGradients(state.Updater, state.Ranks);
            if (state.ClipGradNorm is { } maxNorm)
                nn.utils.clip_grad_norm_(state.Updater.parameters(), maxNorm);
            if (state.StepSchedule is var (schedule, baseLr))
                SetLearningRate(state.Updater, schedule.At((int)state.Step, baseLr));
            state.Updater.step();
            return state with
            {
                Step = state.Step + 1,
                EpochLossSum = state.EpochLossSum + value * batch.Count,
                EpochSamples = state.EpochSamples + batch.Count,
                LastLoss = value,
                AllocationMark = GarbageBound.Collect(state.AllocationMark),
                Ownership = state.HandOver(),
            };
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <summary>
    /// One epoch: the model in training mode, then <see cref="Step"/> folded over the batches. Each
    /// batch is made inside the step's scope, so a lazily made batch is freed with the step.
    /// </summary>
    public static TrainState Epoch(TrainState state, IEnumerable<Batch> batches, ITrainingObserver? observer = null)
    {
        state.EnsureLive("train an epoch");
        state.Model.Train();
        var current = state with { Epoch = state.Epoch + 1, EpochLossSum = 0, EpochSamples = 0 };
        using var e = batches.GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!e.MoveNext()) break;
            current = Step(current, e.Current);
            observer?.StepFinished(current);
        }
        return current;
    }

    /// <summary>
    /// The run: an endless lazy sequence of epoch results, epoch k trained on <paramref name="batches"/>(k).
    /// Take as many as wanted (Take, TakeWhile, EarlyStopping…). The run consumes its start state, so it
    /// can be enumerated once: a second enumeration throws <see cref="ConsumedStateException"/> instead of
    /// silently training on from the changed weights with its epoch counter reset.
    /// </summary>
    public static IEnumerable<EpochResult> Run(TrainState start, Func<int, IEnumerable<Batch>> batches, ITrainingObserver? observer = null, int? stepsPerEpoch = null)
    {
        start.EnsureLive("run (enumerate) training from this state");
        var state = start;
        while (true)
        {
            var epoch = state.Epoch + 1;
            observer?.EpochStarted(epoch, stepsPerEpoch);
            var clock = Stopwatch.StartNew();
            state = Epoch(state, batches(epoch), observer);
            state = ReducedOverRanks(state);
            if (state.EpochSamples == 0)
                throw new InvalidOperationException($"epoch {epoch} had no batches; the data set is empty or the batch size exceeds it with drop-last.");
            var result = new EpochResult(state.Epoch, state.EpochLoss, ImmutableDictionary<string, double>.Empty, state, clock.Elapsed, state.LearningRate);
            observer?.EpochFinished(result);
            yield return result;
        }
    }

    /// <summary>
    /// The run over a <see cref="Data.Loader"/>'s epochs. When the state trains on several ranks, each rank takes
    /// its share of every batch (<see cref="Loader.Shard"/>), after checking that all ranks have the same data.
    /// </summary>
    public static IEnumerable<EpochResult> Run(TrainState start, Data.Loader loader, ITrainingObserver? observer = null)
    {
        var ranks = start.Ranks;
        if (ranks.IsDistributed)
        {
            if (loader.Ranks == 1) loader = loader.Shard(ranks);
            else if (loader.Ranks != ranks.Size || loader.Rank != ranks.Rank)
                throw new ArgumentException($"the loader is sharded for rank {loader.Rank} of {loader.Ranks}, but this process trains as {ranks}; give Run the unsharded loader.");
            DataParallel.CheckAgreement(start, loader, ranks);
        }
        return Run(start, loader.Epoch, observer, loader.BatchesPerEpoch);
    }

    /// <summary>The epoch's loss sum and sample count summed over the ranks, and BatchNorm's statistics averaged, so every rank reports the same epoch.</summary>
    static TrainState ReducedOverRanks(TrainState state)
    {
        if (!state.Ranks.IsDistributed) return state;
        var sums = state.Ranks.AllReduceSum([state.EpochLossSum, state.EpochSamples]);
        DataParallel.AverageBuffers(state.Model, state.Ranks);
        return state with { EpochLossSum = sums[0], EpochSamples = (long)sums[1] };
    }

    /// <summary>Trainable parameters grouped by path prefix, each with its rate: the first matching prefix wins, "" matches the rest.</summary>
    static List<(IEnumerable<Parameter> Parameters, double Lr)> GroupsByPath(Model model, IReadOnlyList<(string PathPrefix, double Lr)> groups)
    {
        var prefixes = groups.Select(g => g.PathPrefix).ToList();
        var buckets = groups.Select(_ => new List<Parameter>()).ToArray();
        foreach (var row in model.Rows)
        {
            var index = prefixes.FindIndex(prefix => Model.PathStartsWith(row.Path, prefix));
            if (index >= 0) buckets[index].AddRange(row.Module.parameters().Where(p => p.requires_grad));
        }
        return groups.Select((g, i) => ((IEnumerable<Parameter>)buckets[i], g.Lr)).Where(g => g.Item1.Any()).ToList();
    }

    /// <summary>Sets the learning rate of every parameter group (the one change a run makes to its updater's settings).</summary>
    internal static void SetLearningRate(optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
