// 07 — autoencoder: Fashion-MNIST squeezed to 32 numbers and back, BCE over pixels; a reconstruction
// grid; then a second model with a 2-number code, its codes scattered by class.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let fashion = FashionMnist.Load()
let pairs (set: ImageSet) =
    let images = (Dataset.ofImages set).Inputs
    Dataset.ofTensors images (Tensor.reshape [ -1; 784 ] images)         // the target is the image itself
let train, test = pairs (fashion.Train.Take(pick 60000 12000)), pairs (fashion.Test.Take(pick 10000 2000))

let encoder code = flatten --> linear 256 --> relu --> linear code
let decoder = linear 256 --> relu --> linear 784 --> sigmoid            // pixel values in 0..1: BCE over pixels
let fit code epochs =
    let model = Model.build [ 1; 28; 28 ] (named "encoder" (encoder code) --> named "decoder" decoder)
    let last =
        Train.fit Train.defaults (adam 1e-3) bce model (batches 128 train)
        |> Seq.map (Eval.on test Metric.mse)
        |> Report.print
        |> Seq.truncate epochs
        |> Seq.last
    model, last

let model, last = fit 32 (pick 10 3)
printfn "32-number code: test BCE per pixel %.4f, MSE %.4f" last.["val_loss"] last.["mse"]
let originals = test.Inputs.[0..7, *, *, *]
let reconstructed = Model.predict model originals |> Tensor.reshape [ 8; 1; 28; 28 ]
Chart.images(picture "07-autoencoder" "reconstructions.png", Tensor.cat [ originals; reconstructed ],
             [ for r in [ "original"; "from 32 numbers" ] do for _ in 1 .. 8 -> r ])

// A 2-number code: the encoder's output drawn for the test images, coloured by their (unseen) class.
let model2, _ = fit 2 (pick 10 3)
let codes = Model.predict (Model.part "encoder" model2) test.Inputs.[0..1999, *, *, *] |> Tensor.toFloats2D
let labels = fashion.Test.Labels
let points = [ for i in 0 .. 1999 -> codes.[i, 0], codes.[i, 1], int labels.[i] ]
Chart.scatter(picture "07-autoencoder" "codes-2d.png", "2-number codes of 2,000 test images, by class", points, FashionMnist.Classes)
result "test_bce" last.["val_loss"]
