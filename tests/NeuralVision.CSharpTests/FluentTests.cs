using NeuralVision.Data;
using NeuralVision.Layers;
using NeuralVision.Losses;
using NeuralVision.Optim;
using NeuralVision.Tensors;
using NeuralVision.Training;
using TorchSharp;
using Xunit;

namespace NeuralVision.CSharpTests;

/// <summary>Every feature of the library reached from C#.</summary>
public class FluentTests
{
    static readonly Layer LeNet =
        Net.Conv2d(6, 5, padding: 2).Tanh().AvgPool(2)
           .Conv2d(16, 5).Tanh().AvgPool(2)
           .Flatten().Linear(120).Tanh().Linear(84).Tanh().Linear(10);

    [Fact(DisplayName = "the fluent LeNet builds with 61,706 parameters and prints its summary")]
    public void LeNetBuilds()
    {
        var model = LeNet.Build(1, 28, 28);
        Assert.Equal(61706L, model.ParameterCount);
        Assert.Equal("10", model.Output.ToString());
        Assert.EndsWith("total params: 61,706", model.Summary());
    }

    [Fact(DisplayName = "a fluent pipeline is a value: equal when built the same way, unchanged by extension, no cast to see its layers")]
    public void PipelinesAreValues()
    {
        var stem = Net.Conv2d(8, 3).ReLU();
        var a = stem.MaxPool(2);
        var b = stem.AvgPool(2);
        Assert.Equal(Net.Conv2d(8, 3).ReLU(), stem);
        Assert.NotEqual(a, b);
        Assert.Equal(2, stem.Layers.Count);
        Assert.Equal(Net.ReLU(), stem[1..].Layers[0]);
    }

    [Fact(DisplayName = "a wrong shape is refused at build time with the layer path")]
    public void WrongShapeRefused()
    {
        var e = Assert.Throws<ShapeException>(() => Net.Conv2d(6, 5).Linear(10).Build(1, 28, 28));
        Assert.Equal("1", e.Path);
        Assert.Contains("add flatten", e.Message);
    }

    [Fact(DisplayName = "combinators from C#: inception, residual with projection, U-Net skip, heads")]
    public void Combinators()
    {
        var inception = Net.Concat(Net.Conv2d(4, 1), Net.Conv2d(2, 3, padding: 1), Net.MaxPool(3, 1, 1).Conv2d(2, 1));
        var block = Net.Residual(Net.Conv2d(16, 3, stride: 2, padding: 1).BatchNorm2d().ReLU(), Net.Conv2d(16, 1, stride: 2));
        var model = Net.Conv2d(8, 3, padding: 1).Then(inception).Then(block)
            .Skip(Net.Conv2d(4, 3, padding: 1))
            .Heads(Net.GlobalAvgPool().Linear(3), Net.Flatten().Linear(4))
            .Build(3, 16, 16);
        Assert.Equal("7", model.Output.ToString());
        using var y = model.Forward(torch.zeros(2, 3, 16, 16));
        Assert.Equal(7L, y.shape[1]);
    }

    [Fact(DisplayName = "Trainer.Fit learns Fashion-MNIST from C# with early stopping and checkpoints")]
    public void TrainerFits()
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
            Assert.InRange(result.History.Count, 1, 4);
            Assert.True(result.History.Max(r => r["accuracy"]) > 0.7, $"accuracy {result.History.Max(r => r["accuracy"])}");
            Assert.True(File.Exists(Path.Combine(dir, "run.nvck")), "a checkpoint was written");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact(DisplayName = "Trainer.For a model already built trains that model (its frozen part stays as it was)")]
    public void TrainerTrainsABuiltModel()
    {
        Seeding.Seed(3);
        var data = FashionMnist.Load();
        var model = Net.Named("features", Net.Conv2d(8, 3, padding: 1).ReLU().MaxPool(2)).Then(Net.Named("head", Net.Flatten().Linear(10))).Build(1, 28, 28);
        model.FreezeInPlace("features");
        var features = model.Part("features");
        using var probe = data.Test.Take(16).ToData().Inputs;
        using var before = features.Predict(probe);
        var result = Trainer.For(model).Optimiser(new Adam(3e-3)).Quiet().Fit(data.Train.Take(2000).ToData(), data.Test.Take(500).ToData(), epochs: 2);
        Assert.Same(model, result.Model);
        Assert.Equal(2, result.History.Count);
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss, "the head learned");
        using var after = features.Predict(probe);
        Assert.True(before.eq(after).all().item<bool>(), "the frozen features did not change");
    }

    [Fact(DisplayName = "the fold from C#: Start, Step, Epoch with a loader; a consumed state (or a copy of it) refuses use")]
    public void FoldFromCSharp()
    {
        Seeding.Seed(1);
        var x = torch.linspace(-1, 1, 64).unsqueeze(1);
        var y = x.mul(3).add(1);
        var model = Net.Linear(1).Build(1);
        var loader = Loader.Create(new TensorData(x, y), 16);
        var start = Train.Start(model, new Sgd(0.1, Momentum: 0.9), Loss.Mse());
        var state = start;
        for (int e = 1; e <= 30; e++) state = Train.Epoch(state, loader.Epoch(e));
        Assert.True(state.EpochLoss < 1e-3, $"y = 3x + 1 fitted: loss {state.EpochLoss}");
        Assert.Equal(30 * 4L, state.Step);
        var copy = start with { Epoch = 0 };
        var e1 = Assert.Throws<ConsumedStateException>(() => Train.Epoch(copy, loader.Epoch(1)));
        Assert.Contains("consumed by step 1 (epoch 1)", e1.Message);
    }

    [Fact(DisplayName = "Trainer.ClipGradients bounds every step: SGD at rate 1 moves the weights at most rate × norm per step")]
    public void TrainerClipsGradients()
    {
        var x = torch.linspace(-1, 1, 64).unsqueeze(1);
        var data = new TensorData(x, x.mul(30).add(10));
        double Moved(Func<Trainer, Trainer> configure)
        {
            Seeding.Seed(4);
            var model = Net.Linear(1).Build(1);
            var before = model.Parameters.Select(p => p.Value.detach().clone()).ToList();
            configure(Trainer.For(model)).Optimiser(new Sgd(1.0)).Loss(Loss.Mse()).Batch(16).Quiet().Fit(data, null, epochs: 1);
            return Math.Sqrt(model.Parameters.Zip(before, (p, b) => p.Value.sub(b).square().sum().item<float>()).Sum());
        }
        var clipped = Moved(t => t.ClipGradients(1e-3));
        var free = Moved(t => t);
        Assert.InRange(clipped, 1e-4, 4 * 1e-3 + 1e-6);
        Assert.True(free > 1, $"without clipping the same steps move the weights far: {free}");
    }

    [Fact(DisplayName = "losses add up: Plus weighs a second loss")]
    public void LossesAddUp()
    {
        using var output = torch.tensor(new[] { 1.0, 2.0 });
        using var target = torch.tensor(new[] { 1.0, 0.0 });
        using var both = Loss.Mse().Plus(Loss.L1(), 0.5).Compute(output, target);
        Assert.Equal(2.0 + 0.5 * 1.0, both.item<double>(), 12);
    }

    [Fact(DisplayName = "an optimiser value minimises a plain function (trajectory)")]
    public void OptimiserMinimises()
    {
        var path = new Adam(0.1).Minimise(w => w.pow(2).sum().mul(10), [8.0, 8.0], 300);
        Assert.Equal(301, path.Length);
        Assert.True(Math.Abs(path[^1][0]) < 0.05, $"near the minimum: {path[^1][0]}");
    }

    [Fact(DisplayName = "schedules and losses are values")]
    public void SchedulesAndLosses()
    {
        Assert.Equal(0.025, new StepDecay(1, 0.5).At(2, 0.1), 15);
        Assert.Equal(new Adam(0.01), new Adam(0.01));
        using var loss = Loss.Mse().Compute(torch.tensor(new[] { 1.0, 2.0 }), torch.tensor(new[] { 1.0, 0.0 }));
        Assert.Equal(2.0, loss.item<double>());
    }
}
