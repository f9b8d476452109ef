// 03 — binary classification: sigmoid output and binary cross-entropy on real data (scikit-learn's
// breast-cancer set: malignant or benign from two standardised measurements), and the decision boundary.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

Seed.set 0
let table = Sklearn.BreastCancer()
// Two features so the boundary can be drawn: mean radius (0) and mean texture (1); standardised.
let twoFeatures = table.ToData() |> Dataset.map (fun x -> x.[*, 0..1])
// BCE wants a probability per sample and float targets 0/1 of the same shape [N, 1].
let asBinary = Dataset.mapTargets (fun y -> Tensor.reshape [ -1; 1 ] (y * 1.0))
let train, test = Dataset.split 0.3 0 twoFeatures |> Dataset.standardise |> fun (a, b) -> asBinary a, asBinary b

let model = Model.build [ 2 ] (linear 8 --> tanh --> linear 1 --> sigmoid)
let last =
    Train.fit Train.quiet (adam 0.01) bce model (batches 32 train)
    |> Seq.truncate (pick 200 60)
    |> Seq.last
// Accuracy of a probability output: p > 0.5. (Metric.accuracy reads one column as a logit, so compare to 0.5 here.)
let accuracy = Tensor.shareEqual (Tensor.above 0.5 (Model.predict model test.Inputs)) test.Targets
printfn "train loss %.4f; test accuracy %.4f (%d test tumours)" last.TrainLoss accuracy (Dataset.count test)

let points = [ let x, y = Tensor.toFloats2D test.Inputs, Tensor.values test.Targets
               for i in 0 .. Array2D.length1 x - 1 -> x.[i, 0], x.[i, 1], int y.[i] ]
let classify (grid: float[,]) = Model.predict model (tensor grid) |> Tensor.above 0.5 |> Tensor.values |> Array.map int
Chart.regions(picture "03-binary" "boundary.png", "Malignant (0) or benign (1): the learned boundary", "mean radius (standardised)", "mean texture (standardised)", classify, points)
result "test_accuracy" accuracy
