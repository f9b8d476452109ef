// 17 — CIFAR-10 with normalisation: the course's CIFARNet (BatchNorm on the input, conv 16/32/64 with
// BatchNorm, 256 → 64 → 10). CIFAR-10 cannot be fetched on this machine: the example trains on the real
// data when it is in $NV_DATA/cifar-10, and otherwise says how to get it and runs its pipeline on files
// it writes in CIFAR's binary format, so that every step is exercised.
#load "Lesson.fsx"

open System.IO
open NeuralVision
open NeuralVision.Data
open Lesson

let cifarNet =
    batchNorm2d
    --> conv2dSame 16 3 --> batchNorm2d --> relu --> maxPool 2
    --> conv2dSame 32 3 --> batchNorm2d --> relu --> maxPool 2
    --> conv2dSame 64 3 --> batchNorm2d --> relu --> maxPool 2
    --> flatten --> linear 256 --> relu --> linear 64 --> relu --> linear 10

let data, real =
    try Cifar.Load10(), true
    with :? DataException as e ->
        printfn "%s" e.Message
        // Stand-in files in the real format: 10 classes of coloured noise with a class-dependent tint.
        let dir = Directory.CreateTempSubdirectory("nv-cifar-").FullName
        Seed.set 0
        let random = System.Random 0
        let write name count =
            let bytes = [| for _ in 1 .. count do
                             let label = random.Next 10
                             yield byte label
                             for c in 0 .. 2 do for _ in 1 .. 1024 -> byte (min 255 (random.Next 128 + 12 * label * (c + 1) / 3)) |]
            File.WriteAllBytes(Path.Combine(dir, name), bytes)
            Path.Combine(dir, name)
        TrainTest(Cifar.ReadBatch(write "data_batch_1.bin" 2000, Cifar.Classes10), Cifar.ReadBatch(write "test_batch.bin" 500, Cifar.Classes10)), false

Seed.set 0
let train, test = data.Train.Take(pick 50000 2000) |> Dataset.ofImages, data.Test.Take(pick 10000 500) |> Dataset.ofImages
let model = Model.build [ 3; 32; 32 ] cifarNet
let run =
    Train.fit Train.defaults (adam 1e-3) crossEntropy model (batches 64 train)
    |> Seq.map (Eval.on test Metric.accuracy)
    |> Report.print
    |> Seq.truncate (if real then pick 10 2 else 3)
    |> List.ofSeq
let last = List.last run
Chart.lines(picture "17-cifar" "accuracy.png", (if real then "CIFARNet on CIFAR-10" else "CIFARNet on stand-in CIFAR-format data"), "epoch", "test accuracy",
            [ Chart.epochs("CIFARNet", "accuracy", run) ], markers = true)
printfn "%s: test accuracy %.4f (course, real CIFAR-10: ≈ 0.72)" (if real then "CIFAR-10" else "stand-in CIFAR-format data") last.["accuracy"]
result "test_accuracy" last.["accuracy"]
