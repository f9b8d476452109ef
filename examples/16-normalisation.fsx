// 16 — normalisation: the same CNN with and without BatchNorm — epochs to reach 88% on Fashion-MNIST;
// and raw 0–255 inputs against standardised ones.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

let fashion = FashionMnist.Load()
let train, test = fashion.Train.Take(pick 60000 12000) |> Dataset.ofImages, fashion.Test.Take(pick 10000 2000) |> Dataset.ofImages
let target = pick 0.88 0.80
let maxEpochs = pick 10 5
let cnn (bn: bool) =
    let norm = if bn then batchNorm2d else identity
    conv2dSame 16 3 --> norm --> relu --> maxPool 2 --> conv2dSame 32 3 --> norm --> relu --> maxPool 2 --> flatten --> linear 10

/// Accuracy per epoch, and the first epoch that reaches the target (None if none does).
let curve (net: Layer) (trainData: TensorData) (testData: TensorData) lr =
    Seed.set 0
    let model = Model.build [ 1; 28; 28 ] net
    let history =
        Train.fit Train.quiet (sgd lr) crossEntropy model (batches 64 trainData)
        |> Seq.map (Eval.on testData Metric.accuracy)
        |> Seq.truncate maxEpochs
        |> List.ofSeq
    [| for r in history -> r.["accuracy"] |], history |> List.tryFindIndex (fun r -> r.["accuracy"] >= target) |> Option.map ((+) 1)

let plain, plainReach = curve (cnn false) train test 0.01
let normed, normReach = curve (cnn true) train test 0.01
let epochsText = function Some e -> string e | None -> $">{maxEpochs}"
printfn "SGD 0.01: epochs to %.0f%% test accuracy — without BatchNorm %s, with BatchNorm %s" (100. * target) (epochsText plainReach) (epochsText normReach)

// Raw 0–255 pixels against standardised ones (same net without BatchNorm).
let scale255 = Dataset.map (fun x -> x * 255.0)
let standardTrain, standardTest = Dataset.standardise (train, test)
let raw, _ = curve (cnn false) (scale255 train) (scale255 test) 0.05
let standard, _ = curve (cnn false) standardTrain standardTest 0.05
printfn "final test accuracy: raw 0–255 %.4f, standardised %.4f" (Array.last raw) (Array.last standard)

let series name (ys: float[]) = name, Array.init ys.Length (fun i -> float (i + 1)), ys
Chart.lines(picture "16-normalisation" "batchnorm.png", "Test accuracy with and without BatchNorm (SGD 0.01)", "epoch", "test accuracy",
            [ series "without BatchNorm" plain; series "with BatchNorm" normed; series "raw 0-255 inputs" raw; series "standardised inputs" standard ], markers = true)
let epochsOrMax = function Some e -> float e | None -> float (maxEpochs + 1)
result "epochs_saved_by_batchnorm" (epochsOrMax plainReach - epochsOrMax normReach)
