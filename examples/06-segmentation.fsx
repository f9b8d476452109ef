// 06 — segmentation: which pixels of a noisy 64×64 canvas belong to the item? A small encoder–decoder
// with U-Net skips, a logit per pixel, the course's per-pixel BCE summed over the image. Measured: mean IoU.
#load "Lesson.fsx"

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
    --> conv2dSame 16 3 --> relu --> conv2d 1 1
let model = Model.build [ 1; 64; 64 ] net
printfn "%s" (Model.summary model)
let last =
    Train.fit Train.defaults (adam 1e-3) pixelBce model (batches 32 (train.ForMasks()))
    |> Seq.map (Eval.on (test.ForMasks()) Metric.iou)
    |> Report.print
    |> Seq.truncate (pick 6 3)
    |> Seq.last
printfn "mean IoU of predicted and true masks on %d test canvases: %.4f (bar: ≥ 0.80)" test.Count last.["iou"]

let n = 8
let images = test.Images.[0..n - 1, *, *, *]
let predicted = Model.predict model images |> Tensor.above 0.0
Chart.images(picture "06-segmentation" "masks.png", Tensor.cat [ images; test.Masks.[0..n - 1, *, *, *]; predicted ],
             [ for r in [ "image"; "true mask"; "predicted" ] do for _ in 1 .. n -> r ], columns = n)
result "mean_iou" last.["iou"]
