// 10 — fully connected nets with Adam: the course's 784 → 100 (sigmoid) → 10 on the 10,000 real MNIST
// digits (8,000 train, 2,000 test); on Fashion-MNIST, a wider one as in zalando's benchmark (256, 128, ReLU).
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

let courseMlp = flatten --> linear 100 --> sigmoid --> linear 10
let widerMlp = flatten --> linear 256 --> relu --> linear 128 --> relu --> linear 10
let fit (mlp: Layer) (train: TensorData) (test: TensorData) epochs =
    Seed.set 0
    let model = Model.build [ 1; 28; 28 ] mlp
    Train.fit Train.quiet (adam 1e-3) crossEntropy model (batches 100 train)
    |> Seq.map (Eval.on test Metric.accuracy)
    |> Report.print
    |> Seq.truncate epochs
    |> List.ofSeq

let mnistTrain, mnistTest = Dataset.mnist () |> Dataset.split 0.2 0
let mnistRun = fit courseMlp mnistTrain mnistTest (pick 10 3)
let mnist = List.last mnistRun
printfn "MNIST (8,000 / 2,000): test accuracy %.4f (course: ≈ 0.92 after one epoch on the full set)" mnist.["accuracy"]

let fashion = FashionMnist.Load()
let fashionRun = fit widerMlp (fashion.Train.Take(pick 60000 10000) |> Dataset.ofImages) (Dataset.ofImages fashion.Test) (pick 15 3)
let fashionResult = List.last fashionRun
Chart.lines(picture "10-mlp" "accuracy.png", "784 → 100 → 10 with Adam: test accuracy", "epoch", "test accuracy",
            [ Chart.epochs("MNIST (10,000 digits)", "accuracy", mnistRun); Chart.epochs("Fashion-MNIST", "accuracy", fashionRun) ], markers = true)
printfn "Fashion-MNIST, 784 → 256 → 128 → 10: test accuracy %.4f (zalando's MLP benchmark: 0.883)" fashionResult.["accuracy"]
printfn "result: fashion_accuracy = %.4f" fashionResult.["accuracy"]
result "mnist_accuracy" mnist.["accuracy"]
