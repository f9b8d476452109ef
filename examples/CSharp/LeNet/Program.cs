// 12 in C#: the course's LeNet-5 on the 10,000 MNIST digits (8,000 train, 2,000 test).
// Run: dotnet run --project examples/CSharp/LeNet [quick]
using NeuralVision.Data;
using NeuralVision.Losses;
using NeuralVision.Optim;
using NeuralVision.Tensors;
using NeuralVision.Training;
using NeuralVision.Vision;

Seeding.Seed(0);
var (train, test) = Mnist.Load().ToData().Split(0.2, 0);
var result = Trainer.For(LeNet.Classic(10), input: [1, 28, 28])
    .Optimiser(new Adam(1e-3)).Loss(Loss.CrossEntropy()).Metrics(Metrics.Accuracy())
    .Batch(100).Quiet()
    .Fit(train, test, epochs: args.Contains("quick") ? 6 : 20);
foreach (var epoch in result.History) Console.WriteLine(epoch);
Console.WriteLine($"result: mnist_accuracy = {result.Last["accuracy"]:F4}");
