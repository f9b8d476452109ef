// 12 — LeNet: the course's version (tanh, average pooling, padding 2) on the MNIST digits and on
// Fashion-MNIST; the ReLU + max-pooling version; and with BatchNorm.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Vision
open Lesson

let curves = ResizeArray<Plot.Series>()
let fit name (net: Layer) (train: TensorData) (test: TensorData) epochs (halveEvery: int option) =
    Seed.set 0
    let model = Model.build [ 1; 28; 28 ] net
    let run =
        Train.start (adam 1e-3) crossEntropy model
        |> Train.runQuietly (batches 100 train)
        |> (match halveEvery with Some n -> Schedule.apply (Schedule.step n 0.5) | None -> id)
        |> Seq.map (Eval.on test accuracy)
        |> Seq.truncate epochs
        |> List.ofSeq
    let last = List.last run
    printfn "%-40s test accuracy %.4f after %d epochs" name last.["accuracy"] last.Epoch
    curves.Add(Plot.Series(name, [| for r in run -> float r.Epoch |], [| for r in run -> r.["accuracy"] |]))
    last.["accuracy"]

let digits = Mnist.Load().ToData()
let struct (mnistTrain, mnistTest) = digits.Split(0.2, 0)
let fashion = FashionMnist.Load()
let fashionTrain, fashionTest = fashion.Train.Take(pick 60000 12000).ToData(), fashion.Test.ToData()
let epochs = pick 20 3

// MNIST-10k as the course trains it; on Fashion-MNIST the rate is halved every 5 epochs.
let mnist = fit "LeNet-5 (course), MNIST-10k" (LeNet.Classic 10) mnistTrain mnistTest (pick 20 6) None
let classic = fit "LeNet-5 (course), Fashion-MNIST" (LeNet.Classic 10) fashionTrain fashionTest epochs (Some 5)
let modern = fit "LeNet-5 ReLU + max-pool, Fashion-MNIST" (LeNet.Modern 10) fashionTrain fashionTest epochs (Some 5)
let withBn = fit "LeNet-5 with BatchNorm, Fashion-MNIST" (LeNet.Classic(10, batchNorm = true)) fashionTrain fashionTest epochs (Some 5)
Plot.Charts.Lines(picture "12-lenet" "accuracy.png", "LeNet-5 variants: test accuracy", "epoch", "test accuracy", curves, markers = true)
printfn "result: fashion_classic = %.4f" classic
printfn "result: fashion_relu = %.4f" modern
printfn "result: fashion_batchnorm = %.4f" withBn
result "mnist_accuracy" mnist
