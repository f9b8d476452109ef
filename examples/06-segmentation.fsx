// 06 — segmentation: which pixels of a noisy 64×64 canvas belong to the item? A small encoder–decoder
// with U-Net skips, a logit per pixel, the course's per-pixel BCE summed over the image. Measured: mean IoU.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let fashion = FashionMnist.Load()
let train = Canvas.Place(fashion.Train, pick 8000 2000, seed = 3)
let test = Canvas.Place(fashion.Test, pick 1000 400, seed = 4)

// Down twice, up twice; each level's features are concatenated with the upsampled deeper ones (skip).
let net =
    conv2dSame 16 3 --> relu
    --> skip (maxPool 2 --> conv2dSame 32 3 --> relu
              --> skip (maxPool 2 --> conv2dSame 64 3 --> relu --> upsample 2)
              --> conv2dSame 32 3 --> relu --> upsample 2)
    --> conv2dSame 16 3 --> relu --> Layers.Net.Conv2d(1L, 1L)
let model = Model.build [ 1; 64; 64 ] net
printfn "%s" (Model.summary model)
let last =
    Train.start (adam 1e-3) pixelBce model
    |> Train.run (batches 32 (train.ForMasks()))
    |> Seq.map (Eval.on (test.ForMasks()) Metric.iou)
    |> Report.print
    |> Seq.truncate (pick 6 3)
    |> Seq.last
printfn "mean IoU of predicted and true masks on %d test canvases: %.4f (bar: ≥ 0.80)" test.Count last.["iou"]

model.Eval()
let n = 8L
let images = test.Images.narrow(0L, 0L, n)
let predicted = (Model.forward model images).gt(torch.tensor 0.f).to_type(torch.float32).detach()
let rows = torch.cat([| images; test.Masks.narrow(0L, 0L, n); predicted |], 0L)
Plot.ImageGrid.Samples(picture "06-segmentation" "masks.png", rows,
                       [ for r in [ "image"; "true mask"; "predicted" ] do for _ in 1L .. n -> r ], columns = int n)
result "mean_iou" last.["iou"]
