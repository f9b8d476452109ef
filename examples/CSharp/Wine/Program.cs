// 04 in C#: wine cultivars from all 13 standardised features, with the fluent API and the Trainer.
// Run: dotnet run --project examples/CSharp/Wine
using NeuralVision.Data;
using NeuralVision.Layers;
using NeuralVision.Losses;
using NeuralVision.Optim;
using NeuralVision.Tensors;
using NeuralVision.Training;

Seeding.Seed(0);
var wine = Sklearn.Wine();
var (train, test) = wine.ToData().Split(0.3, 0);
var norm = Standardisation.Fit(train.Inputs);
var net = Net.Linear(16).ReLU().Linear(3);
var result = Trainer.For(net, input: [13])
    .Optimiser(new Adam(1e-3)).Loss(Loss.CrossEntropy()).Metrics(Metrics.Accuracy())
    .Batch(10).Quiet()
    .Fit(norm.Apply(train), norm.Apply(test), epochs: args.Contains("quick") ? 200 : 500);
Console.WriteLine(result.Model.Summary());
Console.WriteLine($"13 standardised features: test accuracy {result.Last["accuracy"]:F4} after {result.History.Count} epochs");
Console.WriteLine($"result: test_accuracy_13_features = {result.Last["accuracy"]:F4}");
