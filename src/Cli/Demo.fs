/// `nv demo`: the main job on the embedded default — a LeNet-style CNN trained on Fashion-MNIST,
/// with a progress bar, the test accuracy, and pictures in out/demo/.
module NeuralVision.Cli.Demo

open System.IO
open NeuralVision
open NeuralVision.Data
open NeuralVision.Training

/// LeNet-5 with ReLU and max-pooling; padding 2 keeps LeNet's 32×32 geometry on 28×28 images.
let lenet =
    Layers.Net.Conv2d(6L, 5L, padding = 2L) --> relu --> maxPool 2
    --> conv2d 16 5 --> relu --> maxPool 2
    --> flatten --> linear 120 --> relu --> linear 84 --> relu --> linear 10

/// Runs the demo; returns the test accuracy.
let run (epochs: int) (batchSize: int) (outDir: string) : float =
    Seed.set 0
    printfn "Fashion-MNIST: looking for the data (provisioned on first use)..."
    let data = FashionMnist.Load(Console.provisionProgress ())
    let train, test = Dataset.ofImages data.Train, Dataset.ofImages data.Test
    let model = Model.build [ 1; 28; 28 ] lenet
    printfn "train %d images, test %d; device %O" data.Train.Count data.Test.Count model.Device
    printfn "%s" (Model.summary model)
    let losses = StepLosses()
    let last =
        Train.fit { Train.defaults with Observers = [ losses ] } (adam 1e-3) crossEntropy model (train |> batches batchSize)
        |> Seq.map (Eval.on test Metric.accuracy)
        |> Report.print
        |> Seq.truncate epochs
        |> Seq.last
    let predictions = Evaluation.Predictions(model, Evaluation.Batches test) |> Array.map int
    Directory.CreateDirectory outDir |> ignore
    Plot.Curves.Loss(Path.Combine(outDir, "loss.png"), losses.Losses, "LeNet on Fashion-MNIST, Adam 1e-3")
    Plot.ImageGrid.Predictions(Path.Combine(outDir, "predictions.png"), data.Test, predictions, 32)
    printfn "pictures: %s, %s" (Path.Combine(outDir, "loss.png")) (Path.Combine(outDir, "predictions.png"))
    printfn "test accuracy: %.4f" last.["accuracy"]
    last.["accuracy"]
