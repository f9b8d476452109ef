// 01 — tensors and autograd: arrays in and out, the device, and the course's first gradient step.
// Run: dotnet fsi examples/01-tensors.fsx
#load "NeuralVision.fsx"

open TorchSharp
open MathNet.Numerics.LinearAlgebra
open NeuralVision

Seed.set 0L

// .NET arrays and MathNet matrices become tensors (copies) and come back.
let images = Tensor.ofArray4D (Array4D.init 2 1 3 3 (fun n _ h w -> float32 (n * 9 + h * 3 + w)))
printfn "images %A, mean %.2f" (Tensor.shape images) (images.mean().item<float32>())
let m = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ])
let product = (Tensor.ofMatrix m).matmul(Tensor.ofMatrix m) |> Tensor.toMatrix
printfn "m·m =\n%s" (product.ToMatrixString())

// The device: CPU here, CUDA where libtorch sees one, NV_DEVICE=cpu|cuda to choose.
let device = Device.current ()
let onDevice = images |> Tensor.toDevice device
printfn "device: %O (tensor on %O)" device onDevice.device

// The course's gradient step: w = [8, 8], f(w) = 10·Σw², one SGD step.
let w = new Modules.Parameter(Tensor.ofFloats [| 8.0; 8.0 |])
let sgd = torch.optim.SGD([| w |], 0.001)
let f (v: torch.Tensor) = v.pow(torch.tensor 2.0).sum().mul(torch.tensor 10.0)
let loss = f w
loss.backward()
printfn "f(w) = %g, gradient = %A" (loss.item<float>()) (Tensor.toFloats w.grad)
sgd.step() |> ignore
printfn "after one step with lr 0.001: w = %A" (Tensor.toFloats w)
printfn "result: w_after_one_step = %g" (Tensor.toFloats w).[0]
