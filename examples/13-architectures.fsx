// 13 — AlexNet, GoogLeNet, ResNet: their summaries (read the pipelines in src/Core.CSharp/Vision), and a
// ResNet-18 trained on Fashion-MNIST for a few epochs.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

for name in [ "alexnet"; "googlenet"; "resnet18" ] do
    let layer, input = Architectures.withInput name 1000
    let model = Model.build input layer
    let lines = (Model.summary model).Split('\n')
    printfn "%s: %d layers, %s" name model.Rows.Count lines.[lines.Length - 1]

// ResNet-18 on 28×28 grey images: its stem (7×7/2 conv and 3×3/2 pool) leaves 7×7 feature maps.
Seed.set 0
let fashion = FashionMnist.Load()
let train, test = fashion.Train.Take(pick 60000 6000) |> Dataset.ofImages, fashion.Test.Take(pick 10000 2000) |> Dataset.ofImages
let model = Model.build [ 1; 28; 28 ] (Architectures.resnet18 10)
let run =
    Train.fit Train.defaults (adam 1e-3) crossEntropy model (batches 128 train)
    |> Schedule.apply (Schedule.step 3 0.5)          // halve the rate every 3 epochs
    |> Seq.map (Eval.on test Metric.accuracy)
    |> Report.print
    |> Seq.truncate (pick 8 2)
    |> List.ofSeq
let last = List.last run
Chart.lines(picture "13-architectures" "resnet18.png", "ResNet-18 on Fashion-MNIST: test accuracy", "epoch", "test accuracy",
            [ Chart.epochs("ResNet-18", "accuracy", run) ], markers = true)
result "resnet18_fashion_accuracy" last.["accuracy"]
