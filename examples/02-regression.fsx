// 02 — regression: y = 2^x·sin(2^−x) on linspace(−10, 5, 100) with noise, a small sigmoid MLP, Adam.
// The course's pass mark: mean absolute error ≤ 0.03 on the noiseless curve.
#load "Lesson.fsx"

open NeuralVision
open Lesson

Seed.set 0
let curve (x: Tensor) = exp (x * log 2.0) * sin (exp (-x * log 2.0))          // 2^x·sin(2^−x)
let x = Tensor.reshape [ -1; 1 ] (linspace -10.0 5.0 100)
let y = curve x + randn [ 100; 1 ] / 20.0                                     // the course's noise: N(0, 1)/20
let validation = Tensor.reshape [ -1; 1 ] (linspace -10.0 5.0 1000)

let net = linear 30 --> sigmoid --> linear 30 --> sigmoid --> linear 1
let model = Model.build [ 1 ] net
let last =
    Train.fit Train.quiet (adam 0.01) mse model (batchesInOrder 100 (Dataset.ofTensors x y))   // full batch: one step per epoch
    |> Seq.truncate (pick 2000 1500)
    |> Seq.last
let mae = Eval.model (Dataset.ofTensors validation (curve validation)) [ Metric.mae ] model
printfn "training loss %.5f after %d epochs; validation MAE on the noiseless curve %.4f (pass: ≤ 0.03)" last.TrainLoss last.Epoch mae.["mae"]

let fitted = Model.predict model validation
let xs = Tensor.toFloats validation.[*, 0]
Chart.lines(picture "02-regression" "fit.png", "y = 2^x·sin(2^-x): truth and fit", "x", "y",
            [ "truth", xs, Tensor.toFloats (curve validation).[*, 0]; "fit", xs, Tensor.toFloats fitted.[*, 0] ])
result "validation_mae" mae.["mae"]
