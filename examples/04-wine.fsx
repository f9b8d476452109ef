// 04 — multi-class: wine from two features (alcohol, malic acid; 30% test; the course's 2→5→5→3 sigmoid
// net, Adam 1e-3, batch 10), then from all 13 standardised features; the decision regions.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open Lesson

let wine = Sklearn.Wine()
let fit (table: Table) (net: Layer) epochs standardise =
    Seed.set 0
    // The course's notebook, draw for draw: np.random.seed(0), scikit-learn's train_test_split(test_size=0.3),
    // then np.random.permutation of the training rows at every epoch; torch.manual_seed(0) for the weights.
    let numpy = NeuralVision.Tensors.NumPyRandomState 0u
    let struct (train, test) = table.ToData().SplitLikeScikitLearn(0.3, numpy)
    let norm = if standardise then Some (Standardisation.Fit train.Inputs) else None
    let prepare (d: TensorData) = match norm with Some n -> n.Apply d | None -> d
    let model = Model.build [ table.Width ] net
    let last =
        Train.start (adam 1e-3) crossEntropy model
        |> Train.runQuietly ((batches 10 (prepare train)).WithOrder(numpy.PermutationPerEpoch(int train.Count)))
        |> Seq.truncate epochs
        |> Seq.last
        |> Eval.on (prepare test) accuracy
    model, last.["accuracy"], prepare test

// The course's experiment: two unscaled features.
let twoFeatures = wine.Select("alcohol", "malic_acid")
let model2, accuracy2, test2 = fit twoFeatures (linear 5 --> sigmoid --> linear 5 --> sigmoid --> linear 3) (pick 5000 1500) false
printfn "2 features (alcohol, malic acid): test accuracy %.4f (course: 0.87–0.91)" accuracy2
// All thirteen features, standardised.
let _, accuracy13, _ = fit wine (linear 16 --> relu --> linear 3) (pick 500 200) true
printfn "13 standardised features: test accuracy %.4f" accuracy13

let points = [ let x = Tensor.toArray2D test2.Inputs
               let y = test2.Targets.data<int64>().ToArray()
               for i in 0 .. Array2D.length1 x - 1 -> struct (float x.[i, 0], float x.[i, 1], int y.[i]) ] |> ResizeArray
let classify (grid: float[,]) =
    use _ = torch.no_grad()
    model2.Eval()
    (Model.forward model2 (torch.tensor(grid, dtype = torch.float32))).argmax(1L).data<int64>().ToArray() |> Array.map int
Plot.Charts.Regions(picture "04-wine" "regions.png", "Wine cultivars from alcohol and malic acid (test points)", "alcohol", "malic acid", System.Func<_, _> classify, points)
printfn "result: test_accuracy_2_features = %.4f" accuracy2
result "test_accuracy_13_features" accuracy13
