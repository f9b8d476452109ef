// 10 — a fully connected net: 784 → 100 (sigmoid) → 10 with Adam, as in the course, on the 10,000 real
// MNIST digits (8,000 train, 2,000 test), and the same on Fashion-MNIST.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

let mlp = flatten --> linear 100 --> sigmoid --> linear 10
let fit (train: TensorData) (test: TensorData) epochs =
    Seed.set 0L
    let model = Model.build [ 1; 28; 28 ] mlp
    Train.start (adam 1e-3) crossEntropy model
    |> Train.runQuietly (batches 100 train)
    |> Seq.map (Eval.on test accuracy)
    |> Report.print
    |> Seq.truncate epochs
    |> Seq.last

let digits = Mnist.Load().ToData()
let struct (mnistTrain, mnistTest) = digits.Split(0.2, 0)
let mnist = fit mnistTrain mnistTest (pick 10 3)
printfn "MNIST (8,000 / 2,000): test accuracy %.4f (course: ≈ 0.92 after one epoch on the full set)" mnist.["accuracy"]

let fashion = FashionMnist.Load()
let fashionResult = fit (fashion.Train.Take(pick 60000 10000).ToData()) (fashion.Test.ToData()) (pick 10 3)
printfn "Fashion-MNIST: test accuracy %.4f (zalando's MLP benchmark: 0.883)" fashionResult.["accuracy"]
printfn "result: fashion_accuracy = %.4f" fashionResult.["accuracy"]
result "mnist_accuracy" mnist.["accuracy"]
