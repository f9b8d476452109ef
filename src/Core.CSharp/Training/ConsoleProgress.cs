using Spectre.Console;

namespace NeuralVision.Training;

/// <summary>
/// A Spectre.Console progress bar per epoch (loss, steps, ETA); the epoch's line comes from the run (Callbacks.Print). Without a
/// terminal (CI, pipes) it prints a line every tenth of an epoch instead of redrawing a bar.
/// </summary>
/// <remarks>Spectre draws from its own thread; training only updates the task's value and text.</remarks>
public sealed class ConsoleProgress : ITrainingObserver, IDisposable
{
    readonly bool interactive = AnsiConsole.Profile.Capabilities.Interactive;
    readonly string prefix;
    Thread? renderer;
    ProgressTask? task;
    ManualResetEventSlim? epochDone;
    int epoch, steps, done;

    /// <summary>A progress display whose lines start with <paramref name="prefix"/>.</summary>
    public ConsoleProgress(string prefix = "") => this.prefix = prefix;

    /// <inheritdoc/>
    public void EpochStarted(int epoch, int? steps)
    {
        this.epoch = epoch;
        this.steps = steps ?? 0;
        done = 0;
        if (!interactive || steps is null) return;
        var ready = new ManualResetEventSlim();
        epochDone = new ManualResetEventSlim();
        var finished = epochDone;
        renderer = new Thread(() => AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                task = ctx.AddTask($"{prefix}epoch {epoch}", maxValue: steps.Value);
                ready.Set();
                finished.Wait();
                task.Value = task.MaxValue;
            })) { IsBackground = true };
        renderer.Start();
        ready.Wait();
    }

    /// <inheritdoc/>
    public void StepFinished(TrainState state)
    {
        done++;
        if (task is not null)
        {
            task.Description = $"{prefix}epoch {epoch} loss {state.LastLoss:F4}";
            task.Value = done;
        }
        else if (steps > 0 && (done % Math.Max(1, steps / 10) == 0))
            Console.WriteLine($"{prefix}epoch {epoch} {100 * done / steps,3}% loss {state.LastLoss:F4}");
    }

    /// <inheritdoc/>
    public void EpochFinished(EpochResult result) => StopRenderer();

    void StopRenderer()
    {
        epochDone?.Set();
        renderer?.Join();
        renderer = null;
        task = null;
        epochDone = null;
    }

    /// <inheritdoc/>
    public void Dispose() => StopRenderer();
}
