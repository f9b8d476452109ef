using System.Diagnostics;

namespace NeuralVision.Training;

/// <summary>
/// The time a training step's written-out pass (<see cref="TrainState.Autograd"/> off, a plain pipeline) spends in
/// each of its stages, forward and backward, added up over the steps it timed: a per-layer profile of the path that
/// actually trains such a model, whose layers' module hooks do not run. Give it to <see cref="TrainState.WithLayerTimer"/>.
/// </summary>
/// <remarks>
/// A stage is a layer, or a layer with the ReLU it takes in (a convolution's, a linear layer's). A stage's backward
/// includes freeing what it kept. Reading the clock around each stage costs a little; a step timed is that much slower.
/// </remarks>
public sealed class LayerTimer
{
    /// <summary>One stage: the model's layers it covers (indices into the pipeline), what they are, and its time so far.</summary>
    public sealed record Stage(int FirstLayer, int LastLayer, string Kind, TimeSpan Forward, TimeSpan Backward);

    readonly object gate = new();
    (int First, int Last, string Kind)[] stages = [];
    long[] forward = [], backward = [];

    /// <summary>The steps timed so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Each stage's time so far, in the pipeline's order (empty before a timed step).</summary>
    public IReadOnlyList<Stage> Stages
    {
        get
        {
            lock (gate)
                return [.. stages.Select((s, i) => new Stage(s.First, s.Last, s.Kind,
                    Stopwatch.GetElapsedTime(0, forward[i]), Stopwatch.GetElapsedTime(0, backward[i])))];
        }
    }

    /// <summary>Forgets the times so far (the stages stay).</summary>
    public void Reset()
    {
        lock (gate)
        {
            Array.Clear(forward);
            Array.Clear(backward);
            Steps = 0;
        }
    }

    /// <summary>One step's stopwatch ticks per stage, forward and backward, of the pipeline whose stages are <paramref name="described"/>.</summary>
    internal void Add((int First, int Last, string Kind)[] described, long[] forwardTicks, long[] backwardTicks)
    {
        lock (gate)
        {
            if (!stages.SequenceEqual(described))
            {
                // Another model's stages: the times start again.
                stages = described;
                forward = new long[described.Length];
                backward = new long[described.Length];
                Steps = 0;
            }
            for (int i = 0; i < described.Length; i++)
            {
                forward[i] += forwardTicks[i];
                backward[i] += backwardTicks[i];
            }
            Steps++;
        }
    }
}
