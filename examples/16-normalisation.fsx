// 16 — normalisation: the same CNN with and without BatchNorm — epochs to reach 88% on Fashion-MNIST;
// and raw 0–255 inputs against standardised ones.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

let fashion = FashionMnist.Load()
let train, test = fashion.Train.Take(pick 60000 12000).ToData(), fashion.Test.Take(pick 10000 2000).ToData()
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
        Train.start (sgd lr) crossEntropy model
        |> Train.runQuietly (batches 64 trainData)
        |> Seq.map (Eval.on testData accuracy)
        |> Seq.truncate maxEpochs
        |> List.ofSeq
    [| for r in history -> r.["accuracy"] |], history |> List.tryFindIndex (fun r -> r.["accuracy"] >= target) |> Option.map ((+) 1)

let plain, plainReach = curve (cnn false) train test 0.01
let normed, normReach = curve (cnn true) train test 0.01
let epochsText = function Some e -> string e | None -> $">{maxEpochs}"
printfn "SGD 0.01: epochs to %.0f%% test accuracy — without BatchNorm %s, with BatchNorm %s" (100. * target) (epochsText plainReach) (epochsText normReach)

// Raw 0–255 pixels against standardised ones (same net without BatchNorm).
let scale255 (d: TensorData) = d.Map(fun x -> x.mul(torch.tensor 255.f))
let norm = Standardisation.Fit train.Inputs
let raw, _ = curve (cnn false) (scale255 train) (scale255 test) 0.05
let standard, _ = curve (cnn false) (norm.Apply train) (norm.Apply test) 0.05
printfn "final test accuracy: raw 0–255 %.4f, standardised %.4f" raw.[raw.Length - 1] standard.[standard.Length - 1]

let xs (a: float[]) = Array.init a.Length (fun i -> float (i + 1))
Plot.Charts.Lines(picture "16-normalisation" "batchnorm.png", "Test accuracy with and without BatchNorm (SGD 0.01)", "epoch", "test accuracy",
                  [ Plot.Series("without BatchNorm", xs plain, plain); Plot.Series("with BatchNorm", xs normed, normed)
                    Plot.Series("raw 0-255 inputs", xs raw, raw); Plot.Series("standardised inputs", xs standard, standard) ], markers = true)
let epochsOrMax = function Some e -> float e | None -> float (maxEpochs + 1)
result "epochs_saved_by_batchnorm" (epochsOrMax plainReach - epochsOrMax normReach)
