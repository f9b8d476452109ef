// 09 in C#: each optimiser value minimising the elongated quadratic x² + 20y² from (−4, 2): steps to f < 1e-3.
// Run: dotnet run --project examples/CSharp/Optimisers
using NeuralVision.Optim;
using TorchSharp;

var optimisers = new (string Name, Optimiser Value)[]
{
    ("SGD", new Sgd(0.01)), ("momentum", new Sgd(0.01, Momentum: 0.9)), ("Nesterov", new Sgd(0.01, Momentum: 0.9, Nesterov: true)),
    ("Rprop", new Rprop(0.01)), ("RMSprop", new RmsProp(0.01)), ("Adam", new Adam(0.1)),
};
const int steps = 2000;
var counts = new Dictionary<string, int>();
foreach (var (name, optimiser) in optimisers)
{
    var path = optimiser.Minimise(w => w[0].square().add(w[1].square().mul(20)), [-4.0, 2.0], steps);
    var reached = Array.FindIndex(path, p => p[0] * p[0] + 20 * p[1] * p[1] < 1e-3);
    counts[name] = reached < 0 ? steps : reached;
    Console.WriteLine($"{name,-10} {(reached < 0 ? $"{steps}+" : reached.ToString()),6} steps, ends at ({path[^1][0]:G3}, {path[^1][1]:G3})");
}
Console.WriteLine($"result: elongated_sgd_over_momentum_steps = {(double)counts["SGD"] / counts["momentum"]:F4}");
