// 14 — transfer learning: an ImageNet-pretrained ResNet-18 (read from ONNX, offline) against the same
// network trained from scratch, with 100 labelled Fashion-MNIST images per class, the same budget.
// Run: dotnet fsi examples/14-transfer.fsx [quick]
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

let perClass, size, headEpochs, allEpochs = pick (100, 64, 3, 5) (20, 48, 2, 2)
Seed.set 0

// The data: the first `perClass` images of each class, grey 28×28 → RGB size×size in 0..1.
let firstOfEachClass (set: ImageSet) n =
    let indices = [ for c in 0uy .. 9uy do yield! (set.Labels |> Array.indexed |> Array.filter (snd >> (=) c) |> Array.truncate n |> Array.map fst) ]
    Dataset.ofImages set |> Dataset.subset indices |> Dataset.map (Tensor.resize size size Bilinear >> Tensor.greyToRgb)
let fashion = FashionMnist.Load()
let train, test = firstOfEachClass fashion.Train perClass, firstOfEachClass fashion.Test 100
printfn "train %d images, test %d, %dx%d RGB" (Dataset.count train) (Dataset.count test) size size

/// Test accuracy per epoch of a run from the model's current weights.
let fit options optimiser model epochs =
    Train.fit options optimiser crossEntropy model (batches 32 train)
    |> Seq.map (Eval.on test Metric.accuracy)
    |> Report.print
    |> Seq.truncate epochs
    |> List.ofSeq

// Pretrained: ImageNet preprocessing, the ONNX backbone, a new head; first the head alone, then everything.
let pretrained = Onnx.pretrainedResNet18 10 [ 3; size; size ] |> Transfer.freezeInPlace "backbone"
printfn "pretrained, head only (%d trainable parameters):" (Transfer.trainableCount pretrained)
let head = fit Train.quiet (adam 1e-3) pretrained headEpochs
// Fine-tuning on a thousand images: the convolutions adapt, the BatchNorm layers keep ImageNet's statistics.
pretrained |> Transfer.unfreezeInPlace "backbone" |> Transfer.freezeWhere (fun row -> row.Layer.StartsWith "batchNorm") |> ignore
printfn "pretrained, all convolutions (backbone at a tenth of the head's rate, BatchNorm kept):"
let tuned = fit { Train.quiet with Groups = [ "fc", 1e-3; "", 1e-4 ] } (adam 1e-3) pretrained allEpochs

// From scratch: the same ResNet-18 pipeline, random weights, the same number of epochs.
Seed.set 0
let scratch = Model.build [ 3; size; size ] (Architectures.resnet18 10)
printfn "from scratch (%d epochs):" (headEpochs + allEpochs)
let fromScratch = fit Train.quiet (adam 1e-3) scratch (headEpochs + allEpochs)

let accuracyOf (run: EpochResult list) = (List.last run).["accuracy"]
printfn "test accuracy: pretrained %.4f, from scratch %.4f" (accuracyOf tuned) (accuracyOf fromScratch)
let curve name (run: EpochResult list) =
    name, [| 1.0 .. float run.Length |], [| for r in run -> r.["accuracy"] |]
Chart.lines(picture "14-transfer" "accuracy.png", $"{perClass} images per class: pretrained ResNet-18 against scratch", "epoch", "test accuracy",
            [ curve "pretrained" (head @ tuned); curve "from scratch" fromScratch ], markers = true)
result "pretrained_minus_scratch" (accuracyOf tuned - accuracyOf fromScratch)
