// 08 — super-resolution: 14×14 → 28×28, each input pixel becoming four (sub-pixel convolution with pixel
// shuffle), trained on Fashion-MNIST; judged by PSNR against bicubic upsampling of the same inputs.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let fashion = FashionMnist.Load()
let lowHigh (set: ImageSet) =
    let high = set.ToData().Inputs
    TensorData(torch.nn.functional.avg_pool2d(high, 2L), high)  // 14×14 inputs, 28×28 targets
let train, test = lowHigh (fashion.Train.Take(pick 60000 12000)), lowHigh (fashion.Test.Take(pick 10000 2000))

let net = conv2dSame 64 5 --> relu --> conv2dSame 32 3 --> relu --> conv2dSame 4 3 --> pixelShuffle 2
let model = Model.build [ 1; 14; 14 ] net
let last =
    Train.start (adam 1e-3) mse model
    |> Train.run (batches 64 train)
    |> Seq.map (Eval.on test Metric.psnr)
    |> Report.print
    |> Seq.truncate (pick 5 2)
    |> Seq.last

let bicubic = torch.nn.functional.interpolate(test.Inputs, [| 28L; 28L |], mode = torch.InterpolationMode.Bicubic, align_corners = false).clamp(torch.tensor 0.f, torch.tensor 1.f)
let psnrOf (x: torch.Tensor) = Training.Metrics.Psnr().Finish.Invoke(Training.Metrics.Psnr().Sums.Invoke(x, test.Targets))
let ours, baseline = last.["psnr"], psnrOf bicubic
printfn "test PSNR: ours %.2f dB, bicubic %.2f dB, gain %.2f dB (bar: ≥ 1)" ours baseline (ours - baseline)

model.Eval()
let n = 8L
let nearest = torch.nn.functional.interpolate(test.Inputs.narrow(0L, 0L, n), [| 28L; 28L |], mode = torch.InterpolationMode.Nearest)
let rows = torch.cat([| nearest; bicubic.narrow(0L, 0L, n); (Model.forward model (test.Inputs.narrow(0L, 0L, n))).clamp(torch.tensor 0.f, torch.tensor 1.f).detach(); test.Targets.narrow(0L, 0L, n) |], 0L)
Plot.ImageGrid.Samples(picture "08-super-resolution" "comparison.png", rows,
                       [ for r in [ "14x14 input"; "bicubic"; "ours"; "truth" ] do for _ in 1L .. n -> r ], columns = int n)
result "psnr_gain_db" (ours - baseline)
