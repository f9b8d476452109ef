// 15 — overfitting: a small training subset, the train/test gap with no remedy, then with augmentation,
// early stopping, L2 weight decay and dropout, each alone: one table, one picture of the test curves.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open Lesson

let fashion = FashionMnist.Load()
let train, test = fashion.Train.Take(pick 1000 500) |> Dataset.ofImages, fashion.Test.Take(pick 5000 2000) |> Dataset.ofImages
let epochs = pick 40 20
let net (p: float) = flatten --> linear 512 --> relu --> dropout p --> linear 512 --> relu --> dropout p --> linear 10

/// (name, optimiser, dropout, augment?, early stopping?)
let remedies =
    [ "no remedy", adam 1e-3, 0.0, false, false
      "augmentation", adam 1e-3, 0.0, true, false
      "early stopping", adam 1e-3, 0.0, false, true
      "L2 weight decay", Optimiser.Adam(1e-3, weightDecay = 1e-2), 0.0, false, false
      "dropout 0.5", adam 1e-3, 0.5, false, false ]

let accuracyOn data model = (Eval.model data [ Metric.accuracy ] model).["accuracy"]
let outcomes =
    [ for name, optimiser, p, augment, stopEarly in remedies ->
          Seed.set 0
          let model = Model.build [ 1; 28; 28 ] (net p)
          let loader = batches 50 train
          let loader = if augment then loader.WithAugmentation(Augmenter.Of(AugmentTargets.Labels, RandomCrop 2, HorizontalFlip(), Affine(10.0, 0.05))) else loader
          let run =
              Train.fit Train.quiet optimiser crossEntropy model loader
              |> Seq.map (Eval.onAll test [ Metric.accuracy ])
              |> Seq.map (fun r -> r.With("train_accuracy", accuracyOn train model, higherIsBetter = true))
          let history = (if stopEarly then run |> EarlyStop.patience 3 else run) |> Seq.truncate epochs |> List.ofSeq
          // Early stopping restores the best weights: judge the model as it ends.
          name, accuracyOn train model, accuracyOn test model, history ]

printfn "%-18s %10s %10s %8s" "remedy" "train acc" "test acc" "gap"
for name, trainAcc, testAcc, _ in outcomes do printfn "%-18s %10.4f %10.4f %8.4f" name trainAcc testAcc (trainAcc - testAcc)
Chart.lines(picture "15-overfitting" "test-accuracy.png", $"Test accuracy, {Dataset.count train} training images", "epoch", "test accuracy",
            [ for name, _, _, history in outcomes -> Chart.epochs(name, "accuracy", history) ], markers = true)
let gap name = outcomes |> List.find (fun (n, _, _, _) -> n = name) |> fun (_, a, b, _) -> a - b
let narrowed = [ "augmentation"; "early stopping"; "L2 weight decay"; "dropout 0.5" ] |> List.filter (fun r -> gap r < gap "no remedy") |> List.length
printfn "remedies that narrow the gap: %d of 4" narrowed
result "remedies_narrowing_gap" (float narrowed)
