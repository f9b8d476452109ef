using NeuralVision.Data;
using NeuralVision.Layers;
using NeuralVision.Losses;
using NeuralVision.Optim;
using NeuralVision.Tensors;
using NeuralVision.Training;
using TorchSharp;

namespace NeuralVision.CSharpTests;

/// <summary>Every feature of the library reached from C#.</summary>
static class FluentTests
{
    static readonly Layer LeNet =
        Net.Conv2d(6, 5, padding: 2).Tanh().AvgPool(2)
           .Conv2d(16, 5).Tanh().AvgPool(2)
           .Flatten().Linear(120).Tanh().Linear(84).Tanh().Linear(10);

    public static readonly (string Name, Action Body)[] All =
    [
        ("the fluent LeNet builds with 61,706 parameters and prints its summary", () =>
        {
            var model = LeNet.Build(1, 28, 28);
            Check.Equal(61706L, model.ParameterCount, "parameters");
            Check.Equal("10", model.Output.ToString(), "output shape");
            Check.That(model.Summary().EndsWith("total params: 61,706"), "summary ends with the total");
        }),
        ("a fluent pipeline is a value: equal when built the same way, unchanged by extension", () =>
        {
            var stem = Net.Conv2d(8, 3).ReLU();
            var a = stem.MaxPool(2);
            var b = stem.AvgPool(2);
            Check.Equal(Net.Conv2d(8, 3).ReLU(), stem, "same pipeline, equal");
            Check.That(!a.Equals(b), "two extensions of one stem differ");
            Check.Equal(2, ((Sequence)stem).Layers.Count, "the stem still has its two layers");
        }),
        ("a wrong shape is refused at build time with the layer path", () =>
        {
            var e = Check.Throws<ShapeException>(() => Net.Conv2d(6, 5).Linear(10).Build(1, 28, 28), "build");
            Check.Equal("1", e.Path, "path");
            Check.That(e.Message.Contains("add flatten"), $"hint in: {e.Message}");
        }),
        ("combinators from C#: inception, residual with projection, U-Net skip, heads", () =>
        {
            var inception = Net.Concat(Net.Conv2d(4, 1), Net.Conv2d(2, 3, padding: 1), Net.MaxPool(3, 1, 1).Conv2d(2, 1));
            var block = Net.Residual(Net.Conv2d(16, 3, stride: 2, padding: 1).BatchNorm2d().ReLU(), Net.Conv2d(16, 1, stride: 2));
            var model = Net.Conv2d(8, 3, padding: 1).Then(inception).Then(block)
                .Skip(Net.Conv2d(4, 3, padding: 1))
                .Heads(Net.GlobalAvgPool().Linear(3), Net.Flatten().Linear(4))
                .Build(3, 16, 16);
            Check.Equal("7", model.Output.ToString(), "3 class scores + 4 box numbers");
            using var y = model.Forward(torch.zeros(2, 3, 16, 16));
            Check.Equal(7L, y.shape[1], "the real output agrees");
        }),
        ("Trainer.Fit learns Fashion-MNIST from C# with early stopping and checkpoints", () =>
        {
            Seeding.Seed(0);
            var data = FashionMnist.Load();
            var dir = Directory.CreateTempSubdirectory("nv-cs-").FullName;
            try
            {
                var result = Trainer.For(Net.Conv2d(8, 3, padding: 1).ReLU().MaxPool(2).Flatten().Linear(10), input: [1, 28, 28])
                    .Optimiser(new Adam(3e-3)).Loss(Loss.CrossEntropy()).Metrics(Metrics.Accuracy())
                    .Batch(64).EarlyStopping(patience: 2).Checkpoints(Path.Combine(dir, "run.nvck")).Quiet()
                    .Fit(data.Train.Take(3000).ToData(), data.Test.Take(1000).ToData(), epochs: 4);
                Check.That(result.History.Count is >= 1 and <= 4, $"{result.History.Count} epochs");
                Check.That(result.History.Max(r => r["accuracy"]) > 0.7, $"accuracy {result.History.Max(r => r["accuracy"])}");
                Check.That(File.Exists(Path.Combine(dir, "run.nvck")), "a checkpoint was written");
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }),
        ("the fold from C#: Start, Step, Epoch with a loader", () =>
        {
            Seeding.Seed(1);
            var x = torch.linspace(-1, 1, 64).unsqueeze(1);
            var y = x.mul(3).add(1);
            var model = Net.Linear(1).Build(1);
            var loader = Loader.Create(new TensorData(x, y), 16);
            var state = Train.Start(model, new Sgd(0.1, Momentum: 0.9), Loss.Mse());
            for (int e = 1; e <= 30; e++) state = Train.Epoch(state, loader.Epoch(e));
            Check.That(state.EpochLoss < 1e-3, $"y = 3x + 1 fitted: loss {state.EpochLoss}");
            Check.Equal(30 * 4L, state.Step, "steps counted");
        }),
        ("an optimiser value minimises a plain function (trajectory)", () =>
        {
            var path = new Adam(0.1).Minimise(w => w.pow(2).sum().mul(10), [8.0, 8.0], 300);
            Check.Equal(301, path.Length, "start plus one point per step");
            Check.That(Math.Abs(path[^1][0]) < 0.05, $"near the minimum: {path[^1][0]}");
        }),
        ("schedules and losses are values", () =>
        {
            Check.Equal(0.025, new StepDecay(1, 0.5).At(2, 0.1), "step decay");
            Check.Equal(new Adam(0.01), new Adam(0.01), "optimisers compare by value");
            using var loss = Loss.Mse().Compute(torch.tensor(new[] { 1.0, 2.0 }), torch.tensor(new[] { 1.0, 0.0 }));
            Check.Equal(2.0, loss.item<double>(), "mse");
        }),
    ];
}
