// 01 — tensors and autograd: arrays in and out, the device, the course's gradient step, and 500 SGD
// steps drawn on the contours of 10·Σw² and of a skewed quadratic.
// Run: dotnet fsi examples/01-tensors.fsx   (or ./nv run 01)
#load "Lesson.fsx"

open System
open TorchSharp
open MathNet.Numerics.LinearAlgebra
open NeuralVision
open Lesson

Seed.set 0L

// .NET arrays and MathNet matrices become tensors (copies) and come back.
let images = Tensor.ofArray4D (Array4D.init 2 1 3 3 (fun n _ h w -> float32 (n * 9 + h * 3 + w)))
printfn "images %A, mean %.2f" (Tensor.shape images) (images.mean().item<float32>())
let m = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ])
let product = (Tensor.ofMatrix m).matmul(Tensor.ofMatrix m) |> Tensor.toMatrix
printfn "m·m =\n%s" (product.ToMatrixString())

// The device: CPU here, CUDA where libtorch sees one, NV_DEVICE=cpu|cuda to choose.
let device = Device.current ()
printfn "device: %O (tensor on %O)" device (images |> Tensor.toDevice device).device

// The course's gradient step: w = [8, 8], f(w) = 10·Σw², one SGD step with lr 0.001.
let f (v: torch.Tensor) = v.pow(torch.tensor 2.0).sum().mul(torch.tensor 10.0)
let w = new Modules.Parameter(Tensor.ofFloats [| 8.0; 8.0 |])
let sgdStep = torch.optim.SGD([| w |], 0.001)
let loss = f w
loss.backward()
printfn "f(w) = %g, gradient = %A" (loss.item<float>()) (Tensor.toFloats w.grad)
sgdStep.step() |> ignore
printfn "after one step with lr 0.001: w = %A" (Tensor.toFloats w)

// 500 steps of the same optimiser value on two functions, drawn on their contours.
let skewed (v: torch.Tensor) = v.[0].square().add(v.[1].square().mul(torch.tensor 10.0)).add(v.[0].mul(v.[1]).mul(torch.tensor 6.0))
let pathRound = (sgd 0.01).Minimise(Func<_, _> f, [| 8.0; 8.0 |], 500)
let pathSkewed = (sgd 0.01).Minimise(Func<_, _> skewed, [| 8.0; 8.0 |], 500)
Plot.Charts.Contours(picture "01-tensors" "sgd-round.png", "SGD (lr 0.01) on 10·(x² + y²)", (fun x y -> 10. * (x * x + y * y)), -9., 9., -9., 9., [ "SGD", pathRound ])
Plot.Charts.Contours(picture "01-tensors" "sgd-skewed.png", "SGD (lr 0.01) on x² + 10y² + 6xy", (fun x y -> x * x + 10. * y * y + 6. * x * y), -9., 9., -9., 9., [ "SGD", pathSkewed ])
printfn "after 500 steps: round %A, skewed %A" pathRound.[500] pathSkewed.[500]
result "w_after_one_step" (Tensor.toFloats w).[0]
