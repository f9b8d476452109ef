// 09 — optimisers: SGD, momentum, Nesterov, Rprop, RMSprop and Adam on an elongated quadratic, Rosenbrock
// and Beale — paths on the contours, and the steps each needs to come within 1e-3 of the minimum; then
// the same optimisers training a Fashion-MNIST MLP, their loss curves on one picture.
#load "Lesson.fsx"

open System
open NeuralVision
open NeuralVision.Data
open Lesson

let optimisers =
    [ "SGD", sgd 0.01; "momentum", momentum 0.01 0.9; "Nesterov", nesterov 0.01 0.9
      "Rprop", rprop 0.01; "RMSprop", rmsprop 0.01; "Adam", adam 0.1 ]

/// (name, f on tensors, f on numbers, start, minimum value, plot box)
let functions =
    [ "elongated", (fun (w: Tensor) -> w.[0] ** 2.0 + 20.0 * w.[1] ** 2.0), (fun x y -> x * x + 20. * y * y), [ -4.; 2. ], 0., ((-5., 5.), (-3., 3.))
      "rosenbrock", (fun w -> (1.0 - w.[0]) ** 2.0 + 100.0 * (w.[1] - w.[0] ** 2.0) ** 2.0), (fun x y -> (1. - x) ** 2. + 100. * (y - x * x) ** 2.), [ -1.5; 2. ], 0., ((-2., 2.), (-1., 3.))
      "beale", (fun w -> (1.5 - w.[0] + w.[0] * w.[1]) ** 2.0 + (2.25 - w.[0] + w.[0] * w.[1] ** 2.0) ** 2.0 + (2.625 - w.[0] + w.[0] * w.[1] ** 3.0) ** 2.0),
               (fun x y -> (1.5 - x + x * y) ** 2. + (2.25 - x + x * y * y) ** 2. + (2.625 - x + x * y ** 3.) ** 2.), [ 1.; 1.5 ], 0., ((-1., 4.5), (-1.5, 2.)) ]

let steps = pick 5000 2000
printfn "%-12s %s" "steps to f < 1e-3" (String.Join("", [ for name, _ in optimisers -> name.PadLeft 10 ]))
let reached =
    [ for name, f, fNum, start, fMin, (xs, ys) in functions ->
          let paths = [ for oname, o in optimisers -> oname, minimise o steps f start ]
          let first (path: float[][]) = path |> Array.tryFindIndex (fun p -> fNum p.[0] p.[1] - fMin < 1e-3)
          let row = [ for oname, path in paths -> oname, first path ]
          printfn "%-12s %s" name (String.Join("", [ for _, s in row -> (match s with Some k -> string k | None -> string steps + "+").PadLeft 10 ]))
          Chart.contours(picture "09-optimisers" $"{name}.png", $"{name}: {steps} steps of each optimiser", fNum, xs, ys, paths)
          name, row ]

// The same optimisers training one small network on Fashion-MNIST.
Seed.set 0
let fashion = FashionMnist.Load()
let train = fashion.Train.Take(pick 20000 5000) |> Dataset.ofImages
let curves =
    [ for name, optimiser in [ "SGD", sgd 0.05; "momentum", momentum 0.05 0.9; "Nesterov", nesterov 0.05 0.9; "Rprop", rprop 0.001; "RMSprop", rmsprop 0.001; "Adam", adam 0.001 ] ->
          Seed.set 0
          let model = Model.build [ 1; 28; 28 ] (flatten --> linear 100 --> sigmoid --> linear 10)
          let losses = Training.StepLosses()
          // Full-batch for Rprop (it reads only gradient signs, meant for whole-data gradients); mini-batches for the rest.
          let loader = if name = "Rprop" then batchesInOrder 5000 train else batches 100 train
          Train.fit { Train.defaults with Observers = [ losses ] } optimiser crossEntropy model loader
          |> Seq.truncate (if name = "Rprop" then pick 100 40 else 2) |> Seq.iter ignore
          let ys = Chart.movingAverage(20, losses.Losses)
          (if name = "Rprop" then "Rprop (full batch)" else name), Array.init ys.Length (fun i -> float (i + 1)), ys ]
Chart.lines(picture "09-optimisers" "fashion-mlp.png", "Fashion-MNIST MLP: training loss (moving average of 20 steps)", "step", "loss", curves)

let adamVsSgd = reached |> List.find (fst >> (=) "elongated") |> snd |> Map.ofList
let count name = match adamVsSgd.[name] with Some k -> float k | None -> float steps
result "elongated_sgd_over_momentum_steps" (count "SGD" / count "momentum")
