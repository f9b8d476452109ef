// 05 — localisation: one Fashion-MNIST item at a random place and scale on a noisy 64×64 canvas. The
// net outputs presence and centre through a sigmoid and width/height through exp; the loss is the
// course's (BCE for presence and centre, (output − log size)² for the size). Measured: mean IoU on test.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let fashion = FashionMnist.Load()
let train = Canvas.Place(fashion.Train, pick 12000 3000, seed = 1)
let test = Canvas.Place(fashion.Test, pick 2000 500, seed = 2)

let net =
    conv2dSame 16 3 --> relu --> maxPool 2 --> conv2dSame 32 3 --> relu --> maxPool 2
    --> conv2dSame 64 3 --> relu --> maxPool 2 --> conv2dSame 64 3 --> relu --> maxPool 2
    --> flatten --> linear 128 --> relu --> linear 5
let model = Model.build [ 1; 64; 64 ] net
let last =
    Train.fit Train.defaults (adam 1e-3) boxLoss model (batches 64 (train.ForBoxes()))
    |> Seq.map (Eval.on (test.ForBoxes()) Metric.boxIou)
    |> Report.print
    |> Seq.truncate (pick 12 4)
    |> Seq.last
printfn "mean IoU of predicted and true boxes on %d test canvases: %.4f (bar: ≥ 0.70)" test.Count last.["boxIou"]

let shown = test.Images.[0..15, *, *, *]
let predicted = Loss.DecodeBox(Model.predict model shown)
Chart.images(picture "05-localisation" "boxes.png", shown, [ for _ in 1 .. 16 -> "true: green, predicted: red" ],
             boxes = [ test.Boxes.[0..15, *], "#32CD32"; predicted, "#FF4500" ])
result "mean_iou" last.["boxIou"]
