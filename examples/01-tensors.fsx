// 01 — tensors and autograd: tensors from F# values and back, the device, the course's gradient step, and 500
// SGD steps drawn on the contours of 10·Σw² and of a skewed quadratic.
// Run: dotnet fsi examples/01-tensors.fsx   (or ./nv run 01)
#load "Lesson.fsx"

open MathNet.Numerics.LinearAlgebra
open NeuralVision
open Lesson

Seed.set 0

// F# lists and arrays become tensors (their shape inferred), MathNet matrices too, and come back.
let images = tensor [ for n in 0 .. 1 -> [ [ for h in 0 .. 2 -> [ for w in 0 .. 2 -> float (n * 9 + h * 3 + w) ] ] ] ]
printfn "images %A, mean %.2f" (Tensor.shape images) (Tensor.item (Tensor.mean images))
let m = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ])
let product = Tensor.matmul (Tensor.ofMatrix m) (Tensor.ofMatrix m) |> Tensor.toMatrix
printfn "m·m =\n%s" (product.ToMatrixString())
let a = tensor [ [ 1.; 2. ]; [ 3.; 4. ] ]
printfn "a ** 2.0 = %A, sqrt a = %A, row 1 = %A" (Tensor.toArray2D (a ** 2.0)) (Tensor.toArray2D (sqrt a)) (Tensor.toArray a.[1, *])

// The device: CPU here, CUDA where libtorch sees one, NV_DEVICE=cpu|cuda to choose.
let device = Device.current ()
printfn "device: %O (tensor on %O)" device (images |> Tensor.toDevice device).device

// The course's gradient step: w = [8, 8], f(w) = 10·Σw², one SGD step with lr 0.001.
let f (w: Tensor) = 10.0 * (w ** 2.0).sum()
let w = tensor [ 8.0; 8.0 ]
let value, gradient = valueAndGrad f w
printfn "f(w) = %g, gradient = %A" (Tensor.item value) (Tensor.toFloats gradient)
let w1 = w - 0.001 * gradient
printfn "after one step with lr 0.001: w = %A" (Tensor.toFloats w1)

// 500 steps of the same optimiser value on two functions, drawn on their contours.
let skewed (w: Tensor) = w.[0] ** 2.0 + 10.0 * w.[1] ** 2.0 + 6.0 * w.[0] * w.[1]
let pathRound = minimise (sgd 0.01) 500 f [ 8.0; 8.0 ]
let pathSkewed = minimise (sgd 0.01) 500 skewed [ 8.0; 8.0 ]
Chart.contours(picture "01-tensors" "sgd-round.png", "SGD (lr 0.01) on 10·(x² + y²)", (fun x y -> 10. * (x * x + y * y)), (-9., 9.), (-9., 9.), [ ("SGD", pathRound) ])
Chart.contours(picture "01-tensors" "sgd-skewed.png", "SGD (lr 0.01) on x² + 10y² + 6xy", (fun x y -> x * x + 10. * y * y + 6. * x * y), (-9., 9.), (-9., 9.), [ ("SGD", pathSkewed) ])
printfn "after 500 steps: round %A, skewed %A" pathRound.[500] pathSkewed.[500]
result "w_after_one_step" (Tensor.toFloats w1).[0]
