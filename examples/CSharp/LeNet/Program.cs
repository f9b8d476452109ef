// 12 in C#: the course's LeNet-5 on the 10,000 MNIST digits (8,000 train, 2,000 test).
// Run: dotnet run --project examples/CSharp/LeNet [quick]
// On 2 ranks (data parallel over Open MPI): ./nv mpirun -np 2 dotnet examples/CSharp/LeNet/bin/Release/net10.0/NeuralVision.Examples.LeNet.dll quick
using NeuralVision.Data;
using NeuralVision.Distributed;
using NeuralVision.Losses;
using NeuralVision.Optim;
using NeuralVision.Tensors;
using NeuralVision.Training;
using NeuralVision.Vision;

// MPI's world under mpirun; this process alone otherwise.
using var ranks = Communicator.World();
Seeding.Seed(0);
var (train, test) = Mnist.Load().ToData().Split(0.2, 0);
var result = Trainer.For(LeNet.Classic(10), input: [1, 28, 28])
    .Optimiser(new Adam(1e-3)).Loss(Loss.CrossEntropy()).Metrics(Metrics.Accuracy())
    .Batch(100).Quiet().Ranks(ranks)
    .Fit(train, test, epochs: args.Contains("quick") ? 6 : 20);
if (ranks.IsRoot)
{
    foreach (var epoch in result.History) Console.WriteLine(epoch);
    Console.WriteLine($"result: mnist_accuracy = {result.Last["accuracy"]:F4}");
}
