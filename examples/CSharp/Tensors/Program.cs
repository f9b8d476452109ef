// 01 in C#: run with `dotnet run --project examples/CSharp/Tensors`.
using MathNet.Numerics.LinearAlgebra;
using NeuralVision.Tensors;
using TorchSharp;

Seeding.Seed(0);

// Arrays and MathNet matrices in and out; every conversion copies.
var images = TensorConvert.From(new float[2, 1, 3, 3]);
Console.WriteLine($"images [{string.Join(", ", images.shape)}]");
var m = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 3, 4 } });
Console.WriteLine($"m·m =\n{TensorConvert.ToMatrix(TensorConvert.From(m).matmul(TensorConvert.From(m))).ToMatrixString()}");

// CPU by default, CUDA where libtorch sees one; NV_DEVICE=cpu|cuda overrides.
var device = Devices.Default;
Console.WriteLine($"device: {device}");

// The course's gradient step: w = [8, 8], f(w) = 10·Σw², one SGD step with lr 0.001.
var w = new TorchSharp.Modules.Parameter(TensorConvert.From(new[] { 8.0, 8.0 }));
var sgd = torch.optim.SGD([w], 0.001);
var loss = w.pow(2).sum().mul(10);
loss.backward();
sgd.step();
var after = TensorConvert.ToArray1<double>(w);
Console.WriteLine($"after one step: w = [{string.Join(", ", after)}]");
Console.WriteLine($"result: w_after_one_step = {after[0]:F4}");
