// 02 — regression: y = 2^x·sin(2^−x) on linspace(−10, 5, 100) with noise, a small sigmoid MLP, Adam.
// The course's pass mark: mean absolute error ≤ 0.03 on the noiseless curve.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open Lesson

Seed.set 0L
let curve (x: torch.Tensor) = torch.pow(torch.tensor 2.0f, x).mul(torch.sin(torch.pow(torch.tensor 2.0f, x.neg())))
let x = torch.linspace(-10.0, 5.0, 100L).unsqueeze(1L)
let y = curve(x).add(torch.randn(100L, 1L).div(torch.tensor 20.0f))     // the course's noise: N(0, 1)/20
let validation = torch.linspace(-10.0, 5.0, 1000L).unsqueeze(1L)

let net = linear 30 --> sigmoid --> linear 30 --> sigmoid --> linear 1
let model = Model.build [ 1 ] net
let last =
    Train.start (adam 0.01) mse model
    |> Train.runQuietly (batchesInOrder 100 (TensorData(x, y)))      // full batch: one step per epoch
    |> Seq.truncate (pick 2000 1500)
    |> Seq.last
let mae = Eval.model (TensorData(validation, curve validation)) [ Metric.mae ] model
printfn "training loss %.5f after %d epochs; validation MAE on the noiseless curve %.4f (pass: ≤ 0.03)" last.TrainLoss last.Epoch mae.["mae"]

model.Eval()
let fitted = Model.forward model validation
let xs = Tensor.toArray (validation.squeeze(1L)) |> Array.map float
let series = [ Plot.Series("truth", xs, Tensor.toArray ((curve validation).squeeze(1L)) |> Array.map float)
               Plot.Series("fit", xs, Tensor.toArray (fitted.detach().squeeze(1L)) |> Array.map float) ]
Plot.Charts.Lines(picture "02-regression" "fit.png", "y = 2^x·sin(2^-x): truth and fit", "x", "y", series)
result "validation_mae" mae.["mae"]
