// 04 — multi-class: wine from two features (alcohol, malic acid; 30% test; the course's 2→5→5→3 sigmoid
// net, Adam 1e-3, batch 10), then from all 13 standardised features; the decision regions.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

let wine = Sklearn.Wine()
let fit (table: Table) (net: Layer) epochs standardise =
    Seed.set 0
    // The course's notebook, draw for draw: np.random.seed(0), scikit-learn's train_test_split(test_size=0.3),
    // then np.random.permutation of the training rows at every epoch; torch.manual_seed(0) for the weights.
    let numpy = Tensors.NumPyRandomState 0u
    let split = table.ToData() |> Dataset.splitLikeScikitLearn 0.3 numpy
    let train, test = if standardise then Dataset.standardise split else split
    let model = Model.build [ table.Width ] net
    let last =
        Train.fit Train.quiet (adam 1e-3) crossEntropy model ((batches 10 train).WithOrder(numpy.PermutationPerEpoch(Dataset.count train)))
        |> Seq.truncate epochs
        |> Seq.last
        |> Eval.on test Metric.accuracy
    model, last.["accuracy"], test

// The course's experiment: two unscaled features.
let twoFeatures = wine.Select("alcohol", "malic_acid")
let model2, accuracy2, test2 = fit twoFeatures (linear 5 --> sigmoid --> linear 5 --> sigmoid --> linear 3) (pick 5000 1500) false
printfn "2 features (alcohol, malic acid): test accuracy %.4f (course: 0.87–0.91)" accuracy2
// All thirteen features, standardised.
let _, accuracy13, _ = fit wine (linear 16 --> relu --> linear 3) (pick 500 200) true
printfn "13 standardised features: test accuracy %.4f" accuracy13

let points = [ let x, y = Tensor.toFloats2D test2.Inputs, Tensor.values test2.Targets
               for i in 0 .. Array2D.length1 x - 1 -> x.[i, 0], x.[i, 1], int y.[i] ]
let classify (grid: float[,]) = Model.predict model2 (tensor grid) |> Tensor.argmax 1 |> Tensor.values |> Array.map int
Chart.regions(picture "04-wine" "regions.png", "Wine cultivars from alcohol and malic acid (test points)", "alcohol", "malic acid", classify, points)
printfn "result: test_accuracy_2_features = %.4f" accuracy2
result "test_accuracy_13_features" accuracy13
