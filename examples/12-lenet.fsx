// 12 — LeNet: the course's version (tanh, average pooling, padding 2) on the MNIST digits and on
// Fashion-MNIST; the ReLU + max-pooling version; and with BatchNorm.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open NeuralVision.Vision
open Lesson

/// The run's test accuracy per epoch, printed at its end.
let fit name (net: Layer) (train: TensorData) (test: TensorData) epochs (halveEvery: int option) =
    Seed.set 0
    let model = Model.build [ 1; 28; 28 ] net
    let run =
        Train.fit Train.quiet (adam 1e-3) crossEntropy model (batches 100 train)
        |> (match halveEvery with Some n -> Schedule.apply (Schedule.step n 0.5) | None -> id)
        |> Seq.map (Eval.on test Metric.accuracy)
        |> Seq.truncate epochs
        |> List.ofSeq
    let last = List.last run
    printfn "%-40s test accuracy %.4f after %d epochs" name last.["accuracy"] last.Epoch
    name, run

let mnistTrain, mnistTest = Dataset.mnist () |> Dataset.split 0.2 0
let fashion = FashionMnist.Load()
let fashionTrain, fashionTest = fashion.Train.Take(pick 60000 12000) |> Dataset.ofImages, Dataset.ofImages fashion.Test
let epochs = pick 20 3

// MNIST-10k as the course trains it; on Fashion-MNIST the rate is halved every 5 epochs.
let runs =
    [ fit "LeNet-5 (course), MNIST-10k" (Architectures.lenet 10) mnistTrain mnistTest (pick 20 6) None
      fit "LeNet-5 (course), Fashion-MNIST" (Architectures.lenet 10) fashionTrain fashionTest epochs (Some 5)
      fit "LeNet-5 ReLU + max-pool, Fashion-MNIST" (Architectures.lenetRelu 10) fashionTrain fashionTest epochs (Some 5)
      fit "LeNet-5 with BatchNorm, Fashion-MNIST" (LeNet.Classic(10, batchNorm = true)) fashionTrain fashionTest epochs (Some 5) ]
Chart.lines(picture "12-lenet" "accuracy.png", "LeNet-5 variants: test accuracy", "epoch", "test accuracy",
            [ for name, run in runs -> Chart.epochs(name, "accuracy", run) ], markers = true)
let final i = (runs.[i] |> snd |> List.last).["accuracy"]
printfn "result: fashion_classic = %.4f" (final 1)
printfn "result: fashion_relu = %.4f" (final 2)
printfn "result: fashion_batchnorm = %.4f" (final 3)
result "mnist_accuracy" (final 0)
