// 14 — transfer learning: an ImageNet-pretrained ResNet-18 (read from ONNX, offline) against the same
// network trained from scratch, with 100 labelled Fashion-MNIST images per class, the same budget.
// Run: dotnet fsi examples/14-transfer.fsx [quick]
#load "NeuralVision.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Layers
open NeuralVision.Vision

let quick = fsi.CommandLineArgs |> Array.contains "quick"
let perClass, size, headEpochs, allEpochs = if quick then 20, 48, 2, 2 else 100, 64, 3, 5
Seed.set 0L

// The data: the first `perClass` images of each class, grey 28×28 → RGB size×size in 0..1.
let pick (set: ImageSet) n =
    let indices = [| for c in 0uy .. 9uy do yield! (set.Labels |> Array.indexed |> Array.filter (snd >> (=) c) |> Array.truncate n |> Array.map (fst >> int64)) |]
    let data = set.ToData().Subset indices
    data.Map(fun x -> torch.nn.functional.interpolate(x, [| int64 size; int64 size |], mode = torch.InterpolationMode.Bilinear, align_corners = false).expand(-1L, 3L, -1L, -1L).contiguous())
let fashion = FashionMnist.Load()
let train, test = pick fashion.Train perClass, pick fashion.Test 100
printfn "train %d images, test %d, %dx%d RGB" train.Count test.Count size size

let fit (state: TrainState) epochs =
    Train.runQuietly (batches 32 train) state
    |> Seq.map (Eval.on test accuracy)
    |> Report.print
    |> Seq.truncate epochs
    |> Seq.last

// Pretrained: ImageNet preprocessing, the ONNX backbone, a new head; first the head alone, then everything.
let pretrained = Pretrained.ResNet18Classifier(10, Shape(3L, int64 size, int64 size))
pretrained.Freeze "backbone" |> ignore
printfn "pretrained, head only (%d trainable parameters):" pretrained.TrainableCount
let head = fit (Train.start (adam 1e-3) crossEntropy pretrained) headEpochs
// Fine-tuning on a thousand images: the convolutions adapt, the BatchNorm layers keep ImageNet's statistics.
pretrained.Unfreeze "backbone" |> ignore
pretrained.Freeze(fun row -> row.Layer.StartsWith "batchNorm") |> ignore
printfn "pretrained, all convolutions (backbone at a tenth of the head's rate, BatchNorm kept):"
let tuned = fit (Transfer.startWithGroups [ "fc", 1e-3; "", 1e-4 ] (adam 1e-3) crossEntropy pretrained) allEpochs

// From scratch: the same ResNet-18 pipeline, random weights, the same number of epochs.
Seed.set 0L
let scratch = Model.build [ 3; size; size ] (Architectures.resnet18 10)
printfn "from scratch (%d epochs):" (headEpochs + allEpochs)
let fromScratch = fit (Train.start (adam 1e-3) crossEntropy scratch) (headEpochs + allEpochs)

printfn "test accuracy: pretrained %.4f, from scratch %.4f" tuned.["accuracy"] fromScratch.["accuracy"]
printfn "result: pretrained_minus_scratch = %.4f" (tuned.["accuracy"] - fromScratch.["accuracy"])
