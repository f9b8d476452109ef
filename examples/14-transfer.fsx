// 14 — transfer learning: an ImageNet-pretrained ResNet-18 (read from ONNX, offline) against the same
// network trained from scratch, with 100 labelled Fashion-MNIST images per class, the same budget.
// Run: dotnet fsi examples/14-transfer.fsx [quick]
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Layers
open NeuralVision.Vision
open Lesson

let perClass, size, headEpochs, allEpochs = pick (100, 64, 3, 5) (20, 48, 2, 2)
Seed.set 0

// The data: the first `perClass` images of each class, grey 28×28 → RGB size×size in 0..1.
let pick (set: ImageSet) n =
    let indices = [| for c in 0uy .. 9uy do yield! (set.Labels |> Array.indexed |> Array.filter (snd >> (=) c) |> Array.truncate n |> Array.map (fst >> int64)) |]
    let data = set.ToData().Subset indices
    data.Map(fun x -> torch.nn.functional.interpolate(x, [| int64 size; int64 size |], mode = torch.InterpolationMode.Bilinear, align_corners = false).expand(-1L, 3L, -1L, -1L).contiguous())
let fashion = FashionMnist.Load()
let train, test = pick fashion.Train perClass, pick fashion.Test 100
printfn "train %d images, test %d, %dx%d RGB" train.Count test.Count size size

let curves = System.Collections.Generic.Dictionary<string, ResizeArray<float>>()
let fit (name: string) (state: TrainState) epochs =
    let curve = match curves.TryGetValue name with | true, c -> c | _ -> (let c = ResizeArray() in curves.[name] <- c; c)
    Train.runQuietly (batches 32 train) state
    |> Seq.map (Eval.on test accuracy)
    |> Report.print
    |> Seq.truncate epochs
    |> Seq.map (fun r -> curve.Add r.["accuracy"]; r)
    |> Seq.last

// Pretrained: ImageNet preprocessing, the ONNX backbone, a new head; first the head alone, then everything.
let pretrained = Pretrained.ResNet18Classifier(10, Shape(3L, int64 size, int64 size))
pretrained.FreezeInPlace "backbone" |> ignore
printfn "pretrained, head only (%d trainable parameters):" pretrained.TrainableCount
let head = fit "pretrained" (Train.start (adam 1e-3) crossEntropy pretrained) headEpochs
// Fine-tuning on a thousand images: the convolutions adapt, the BatchNorm layers keep ImageNet's statistics.
pretrained.UnfreezeInPlace "backbone" |> ignore
pretrained.FreezeInPlace(fun row -> row.Layer.StartsWith "batchNorm") |> ignore
printfn "pretrained, all convolutions (backbone at a tenth of the head's rate, BatchNorm kept):"
let tuned = fit "pretrained" (Transfer.startWithGroups [ "fc", 1e-3; "", 1e-4 ] (adam 1e-3) crossEntropy pretrained) allEpochs

// From scratch: the same ResNet-18 pipeline, random weights, the same number of epochs.
Seed.set 0
let scratch = Model.build [ 3; size; size ] (Architectures.resnet18 10)
printfn "from scratch (%d epochs):" (headEpochs + allEpochs)
let fromScratch = fit "from scratch" (Train.start (adam 1e-3) crossEntropy scratch) (headEpochs + allEpochs)

printfn "test accuracy: pretrained %.4f, from scratch %.4f" tuned.["accuracy"] fromScratch.["accuracy"]
Plot.Charts.Lines(picture "14-transfer" "accuracy.png", $"{perClass} images per class: pretrained ResNet-18 against scratch", "epoch", "test accuracy",
                  [ for kv in curves -> Plot.Series(kv.Key, Array.init kv.Value.Count (fun i -> float (i + 1)), kv.Value.ToArray()) ], markers = true)
result "pretrained_minus_scratch" (tuned.["accuracy"] - fromScratch.["accuracy"])
