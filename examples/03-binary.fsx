// 03 — binary classification: sigmoid output and binary cross-entropy on real data (scikit-learn's
// breast-cancer set: malignant or benign from two standardised measurements), and the decision boundary.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let table = Sklearn.BreastCancer()
let data = table.ToData()
// Two features so the boundary can be drawn: mean radius (0) and mean texture (1); standardised.
let twoFeatures = data.Map(fun x -> x.index_select(1L, torch.tensor([| 0L; 1L |])))
let struct (train, test) = twoFeatures.Split(0.3, 0)
let norm = Standardisation.Fit train.Inputs
// BCE wants a probability per sample and float targets 0/1 of the same shape [N, 1].
let asBinary (d: TensorData) = TensorData(norm.Apply d.Inputs, d.Targets.to_type(torch.float32).unsqueeze(1L))
let train', test' = asBinary train, asBinary test

let model = Model.build [ 2 ] (linear 8 --> tanh --> linear 1 --> sigmoid)
let last =
    Train.start (adam 0.01) bce model
    |> Train.runQuietly (batches 32 train')
    |> Seq.truncate (pick 200 60)
    |> Seq.last
// Accuracy of a probability output: p > 0.5. (Metrics.Accuracy reads one column as a logit, so compare to 0.5 here.)
model.Eval()
let predicted = (Model.forward model test'.Inputs).gt(torch.tensor 0.5f).to_type(torch.float32)
let accuracy = predicted.eq(test'.Targets).to_type(torch.float32).mean().item<float32>() |> float
printfn "train loss %.4f; test accuracy %.4f (%d test tumours)" last.TrainLoss accuracy test'.Count

let points = [ let x = Tensor.toArray2D test'.Inputs
               let y = Tensor.toArray (test'.Targets.squeeze(1L))
               for i in 0 .. Array2D.length1 x - 1 -> struct (float x.[i, 0], float x.[i, 1], int y.[i]) ] |> ResizeArray
let classify (grid: float[,]) =
    use _ = torch.no_grad()
    let p = Model.forward model (torch.tensor(grid, dtype = torch.float32))
    Tensor.toArray (p.squeeze(1L)) |> Array.map (fun v -> if v > 0.5f then 1 else 0)
Plot.Charts.Regions(picture "03-binary" "boundary.png", "Malignant (0) or benign (1): the learned boundary", "mean radius (standardised)", "mean texture (standardised)", System.Func<_, _> classify, points)
result "test_accuracy" accuracy
