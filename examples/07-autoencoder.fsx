// 07 — autoencoder: Fashion-MNIST squeezed to 32 numbers and back, BCE over pixels; a reconstruction
// grid; then a second model with a 2-number code, its codes scattered by class.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let fashion = FashionMnist.Load()
let pairs (set: ImageSet) =
    let d = set.ToData()
    TensorData(d.Inputs, d.Inputs.flatten(1L))              // the target is the image itself
let train, test = pairs (fashion.Train.Take(pick 60000 12000)), pairs (fashion.Test.Take(pick 10000 2000))

let encoder code = flatten --> linear 256 --> relu --> linear code
let decoder = linear 256 --> relu --> linear 784                  // logits: BCE with logits over pixels
let fit code epochs =
    let model = Model.build [ 1; 28; 28 ] (named "encoder" (encoder code) --> named "decoder" decoder)
    let last =
        Train.start (adam 1e-3) bceWithLogits model
        |> Train.run (batches 128 train)
        |> Seq.map (Eval.on test Metric.mse)
        |> Report.print
        |> Seq.truncate epochs
        |> Seq.last
    model, last

let model, last = fit 32 (pick 10 3)
printfn "32-number code: test BCE per pixel %.4f, MSE %.4f" last.["val_loss"] last.["mse"]
model.Eval()
let originals = test.Inputs.narrow(0L, 0L, 8L)
let reconstructed = (Model.forward model originals).sigmoid().reshape(8L, 1L, 28L, 28L).detach()
Plot.ImageGrid.Samples(picture "07-autoencoder" "reconstructions.png", torch.cat([| originals; reconstructed |], 0L),
                       [ for r in [ "original"; "from 32 numbers" ] do for _ in 1 .. 8 -> r ])

// A 2-number code: the encoder's output drawn for the test images, coloured by their (unseen) class.
let model2, _ = fit 2 (pick 10 3)
let codes = Tensor.toArray2D ((model2.Part "encoder").Predict(test.Inputs.narrow(0L, 0L, 2000L)))
let labels = test.Targets |> ignore; fashion.Test.Labels
let points = ResizeArray [ for i in 0 .. 1999 -> struct (float codes.[i, 0], float codes.[i, 1], int labels.[i]) ]
Plot.Charts.Scatter(picture "07-autoencoder" "codes-2d.png", "2-number codes of 2,000 test images, by class", points, FashionMnist.Classes)
result "test_bce" last.["val_loss"]
