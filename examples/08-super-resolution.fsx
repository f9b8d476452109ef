// 08 — super-resolution: 14×14 → 28×28, each input pixel becoming four (sub-pixel convolution with pixel
// shuffle), trained on Fashion-MNIST; judged by PSNR against bicubic upsampling of the same inputs.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let fashion = FashionMnist.Load()
let lowHigh (set: ImageSet) =
    let high = (Dataset.ofImages set).Inputs
    Dataset.ofTensors (Model.apply (avgPool 2) high) high                // 14×14 inputs, 28×28 targets
let train, test = lowHigh (fashion.Train.Take(pick 60000 12000)), lowHigh (fashion.Test.Take(pick 10000 2000))

let net = conv2dSame 64 5 --> relu --> conv2dSame 32 3 --> relu --> conv2dSame 4 3 --> pixelShuffle 2
let model = Model.build [ 1; 14; 14 ] net
let last =
    Train.fit Train.defaults (adam 1e-3) mse model (batches 64 train)
    |> Seq.map (Eval.on test Metric.psnr)
    |> Report.print
    |> Seq.truncate (pick 5 2)
    |> Seq.last

let bicubic = test.Inputs |> Tensor.resize 28 28 Bicubic |> Tensor.clamp 0.0 1.0
let ours, baseline = last.["psnr"], Metric.value Metric.psnr bicubic test.Targets
printfn "test PSNR: ours %.2f dB, bicubic %.2f dB, gain %.2f dB (bar: ≥ 1)" ours baseline (ours - baseline)

let n = 8
let inputs = test.Inputs.[0..n - 1, *, *, *]
let rows = Tensor.cat [ Tensor.resize 28 28 Nearest inputs; bicubic.[0..n - 1, *, *, *]
                        Model.predict model inputs |> Tensor.clamp 0.0 1.0; test.Targets.[0..n - 1, *, *, *] ]
Chart.images(picture "08-super-resolution" "comparison.png", rows,
             [ for r in [ "14x14 input"; "bicubic"; "ours"; "truth" ] do for _ in 1 .. n -> r ], columns = n)
result "psnr_gain_db" (ours - baseline)
