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

/// (name, f on tensors, f on numbers, start, minimum point, plot box)
let functions =
    [ "elongated", (fun (w: Tensor) -> w.[0] ** 2.0 + 20.0 * w.[1] ** 2.0), (fun x y -> x * x + 20. * y * y), [ -4.; 2. ], (0., 0.), ((-5., 5.), (-3., 3.))
      "rosenbrock", (fun w -> (1.0 - w.[0]) ** 2.0 + 100.0 * (w.[1] - w.[0] ** 2.0) ** 2.0), (fun x y -> (1. - x) ** 2. + 100. * (y - x * x) ** 2.), [ -1.5; 2. ], (1., 1.), ((-2., 2.), (-1., 3.))
      "beale", (fun w -> (1.5 - w.[0] + w.[0] * w.[1]) ** 2.0 + (2.25 - w.[0] + w.[0] * w.[1] ** 2.0) ** 2.0 + (2.625 - w.[0] + w.[0] * w.[1] ** 3.0) ** 2.0),
               (fun x y -> (1.5 - x + x * y) ** 2. + (2.25 - x + x * y * y) ** 2. + (2.625 - x + x * y ** 3.) ** 2.), [ 1.; 1.5 ], (3., 0.5), ((-1., 4.5), (-1.5, 2.)) ]

let steps = pick 5000 2000
/// Whether every point of a path is a number inside the box.
let inView ((x0, x1), (y0, y1)) (path: float[][]) =
    path |> Array.forall (fun p -> Double.IsFinite p.[0] && Double.IsFinite p.[1] && p.[0] >= x0 && p.[0] <= x1 && p.[1] >= y0 && p.[1] <= y1)
/// Each optimiser's rate on each function: the largest of its rate, ÷3, ÷10, … ÷729 whose path stays in view
/// (a steep function such as Rosenbrock throws plain SGD out at the rate that suits a gentle one).
let tuned (optimiser: Optimiser) f start box =
    let ladder = [ for k in 0 .. 6 -> optimiser.LearningRate / 3.0 ** float k ]
    let paths = ladder |> Seq.map (fun lr -> lr, minimise (optimiser.WithLearningRate lr) steps f start)
    match paths |> Seq.tryFind (snd >> inView box) with
    | Some fitting -> fitting
    | None -> optimiser.LearningRate, minimise optimiser steps f start       // drawn as it is: the legend says it diverged

printfn "%-12s %s" "steps to f < 1e-3" (String.Join("", [ for name, _ in optimisers -> name.PadLeft 10 ]))
let reached =
    [ for name, f, fNum, start, (mx, my), (xs, ys) in functions ->
          let paths = [ for oname, o in optimisers -> let lr, path = tuned o f start (xs, ys) in $"{oname} (lr {lr:G3})", oname, path ]
          let first (path: float[][]) = path |> Array.tryFindIndex (fun p -> fNum p.[0] p.[1] - fNum mx my < 1e-3)
          let row = [ for _, oname, path in paths -> oname, first path ]
          printfn "%-12s %s" name (String.Join("", [ for _, s in row -> (match s with Some k -> string k | None -> string steps + "+").PadLeft 10 ]))
          Chart.contours(picture "09-optimisers" $"{name}.png", $"{name}: {steps} steps of each optimiser", fNum, xs, ys,
                         [ for label, _, path in paths -> label, path ], minimum = (mx, my))
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
