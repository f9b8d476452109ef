/// Losses, optimisers, metrics and training as a fold, from F#:
///
///     Train.epochs (adam 1e-3) crossEntropy model (train |> batches 64)
///     |> Seq.map (Eval.on test accuracy)
///     |> EarlyStop.patience 3
///     |> Seq.truncate 20
///     |> Seq.last
namespace NeuralVision

open NeuralVision.Data
open NeuralVision.Training

type Loss = Losses.Loss
type Optimiser = Optim.Optimiser
type Metric = Training.Metric
type TrainState = Training.TrainState
type EpochResult = Training.EpochResult
type Batch = Data.Batch
type TensorData = Data.TensorData
type Loader = Data.Loader

/// The optimisers of the course, as values.
[<AutoOpen>]
module Optimisers =
    /// Plain SGD.
    let sgd (lr: float) : Optimiser = Optim.Sgd(lr)
    /// SGD with heavy-ball momentum.
    let momentum (lr: float) (m: float) : Optimiser = Optim.Sgd(lr, Momentum = m)
    /// SGD with Nesterov momentum.
    let nesterov (lr: float) (m: float) : Optimiser = Optim.Sgd(lr, Momentum = m, Nesterov = true)
    /// Rprop.
    let rprop (lr: float) : Optimiser = Optim.Rprop(lr)
    /// RMSprop.
    let rmsprop (lr: float) : Optimiser = Optim.RmsProp(lr)
    /// Adagrad.
    let adagrad (lr: float) : Optimiser = Optim.Adagrad(lr)
    /// Adam.
    let adam (lr: float) : Optimiser = Optim.Adam(lr)
    /// AdamW with decoupled weight decay `wd`.
    let adamW (lr: float) (wd: float) : Optimiser = Optim.AdamW(lr, WeightDecay = wd)

/// The losses of the course, as values.
[<AutoOpen>]
module LossFunctions =
    /// Mean squared error.
    let mse : Loss = Loss.Mse()
    /// Mean absolute error.
    let l1 : Loss = Loss.L1()
    /// Smooth L1 (beta 1).
    let smoothL1 : Loss = Loss.SmoothL1()
    /// Binary cross-entropy on probabilities.
    let bce : Loss = Loss.Bce()
    /// Binary cross-entropy on logits.
    let bceWithLogits : Loss = Loss.BceWithLogits()
    /// Cross-entropy on logits against class indices.
    let crossEntropy : Loss = Loss.CrossEntropy()
    /// Negative log-likelihood on log-probabilities.
    let nll : Loss = Loss.Nll()
    /// Per-pixel BCE on logits, summed over each image's pixels (the course's segmentation loss).
    let pixelBce : Loss = Loss.PixelBce()
    /// 1 − Dice on logits.
    let diceLoss : Loss = Loss.Dice()
    /// The course's localisation loss on [presence; cx; cy; log w; log h] outputs.
    let boxLoss : Loss = Loss.Box()

/// Share of right class predictions.
[<AutoOpen>]
module CommonMetrics =
    /// Share of samples classified right.
    let accuracy : Metric = Metrics.Accuracy()

/// Metrics by name.
[<RequireQualifiedAccess>]
module Metric =
    let accuracy : Metric = Metrics.Accuracy()
    let topK (k: int) : Metric = Metrics.TopK k
    let mse : Metric = Metrics.Mse()
    let mae : Metric = Metrics.Mae()
    let psnr : Metric = Metrics.Psnr()
    let iou : Metric = Metrics.MaskIoU()
    let dice : Metric = Metrics.Dice()
    let boxIou : Metric = Metrics.BoxIoU()
    let precision (classes: int) : Metric = Metrics.Precision classes
    let recall (classes: int) : Metric = Metrics.Recall classes
    let f1 (classes: int) : Metric = Metrics.F1 classes

/// Data into batches.
[<AutoOpen>]
module Batches =
    /// Shuffled batches of `size` (a new seeded order each epoch).
    let batches (size: int) (data: TensorData) : Loader = Loader.Create(data, size)
    /// Batches of `size` in the data's order.
    let batchesInOrder (size: int) (data: TensorData) : Loader = Loader.InOrder(data, size)

/// Training as a fold.
[<RequireQualifiedAccess>]
module Train =
    /// The state before the first step.
    let start (optimiser: Optimiser) (loss: Loss) (model: Layers.Model) : TrainState = Train.Start(model, optimiser, loss)
    /// The state before the first step, with gradient clipping at a global norm.
    let startClipped (maxNorm: float) (optimiser: Optimiser) (loss: Loss) (model: Layers.Model) : TrainState =
        Train.Start(model, optimiser, loss, clipGradNorm = maxNorm)
    /// The state before the first step, with a per-step schedule (one-cycle).
    let startScheduled (schedule: Optim.Schedule) (optimiser: Optimiser) (loss: Loss) (model: Layers.Model) : TrainState =
        Train.Start(model, optimiser, loss, stepSchedule = schedule)
    /// One step: State → Batch → State.
    let step (state: TrainState) (batch: Batch) : TrainState = Train.Step(state, batch)
    /// One epoch: `step` folded over the batches.
    let epoch (state: TrainState) (batches: seq<Batch>) : TrainState = Train.Epoch(state, batches)
    /// The lazy run from a state over a loader's epochs, with a progress bar.
    let run (loader: Loader) (state: TrainState) : seq<EpochResult> = Train.Run(state, loader, new ConsoleProgress())
    /// The lazy run with a progress bar and an observer of its own (e.g. StepLosses for a loss curve).
    let runObserved (observer: ITrainingObserver) (loader: Loader) (state: TrainState) : seq<EpochResult> =
        Train.Run(state, loader, Observers.Combine(new ConsoleProgress(), observer))
    /// The lazy run without any output.
    let runQuietly (loader: Loader) (state: TrainState) : seq<EpochResult> = Train.Run(state, loader)
    /// The lazy run of a fresh model: optimiser, loss, model, loader.
    let epochs (optimiser: Optimiser) (loss: Loss) (model: Layers.Model) (loader: Loader) : seq<EpochResult> =
        start optimiser loss model |> run loader

/// Evaluation as a function on epoch results.
[<RequireQualifiedAccess>]
module Eval =
    /// Adds `metric` and `val_loss` on `data` to the result.
    let on (data: TensorData) (metric: Metric) (result: EpochResult) : EpochResult =
        result.Evaluated(Evaluation.Batches data, metric)
    /// Adds several metrics and `val_loss` on `data` to the result.
    let onAll (data: TensorData) (metrics: Metric list) (result: EpochResult) : EpochResult =
        result.Evaluated(Evaluation.Batches data, Array.ofList metrics)
    /// The metrics of a model on data.
    let model (data: TensorData) (metrics: Metric list) (model: Layers.Model) : Map<string, float> =
        Evaluation.Evaluate(model, Evaluation.Batches data, Array.ofList metrics) |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq

/// Early stopping over the run.
[<RequireQualifiedAccess>]
module EarlyStop =
    /// Stops after `n` epochs without a better `val_loss`; the best weights are restored at the end.
    let patience (n: int) (run: seq<EpochResult>) : seq<EpochResult> = run.EarlyStopping("val_loss", n)
    /// Stops after `n` epochs without improvement of the named figure.
    let on (figure: string) (n: int) (run: seq<EpochResult>) : seq<EpochResult> = run.EarlyStopping(figure, n)

/// Checkpoints over the run, and saving and loading.
[<RequireQualifiedAccess>]
module Checkpoint =
    /// Saves the whole training state after every epoch (for resuming).
    let every (path: string) (run: seq<EpochResult>) : seq<EpochResult> = run.CheckpointEvery path
    /// Saves the weights whenever `figure` improves.
    let best (path: string) (figure: string) (run: seq<EpochResult>) : seq<EpochResult> = run.CheckpointBest(path, figure)
    /// Restores a saved training state into a fresh one; returns the state to continue from.
    let resume (path: string) (fresh: TrainState) : TrainState = Training.Checkpoint.Load(path, fresh)
    /// Saves a model's weights.
    let saveWeights (path: string) (model: Layers.Model) : unit = Training.Checkpoint.SaveWeights(model, path)
    /// Loads weights into a model of the same architecture.
    let loadWeights (path: string) (model: Layers.Model) : unit = Training.Checkpoint.LoadWeights(model, path)

/// Learning-rate schedules over the run.
[<RequireQualifiedAccess>]
module Schedule =
    /// Multiply by `gamma` every `every` epochs.
    let step (every: int) (gamma: float) : Optim.Schedule = Optim.StepDecay(every, gamma)
    /// Cosine annealing over `epochs` epochs.
    let cosine (epochs: int) : Optim.Schedule = Optim.Cosine(epochs)
    /// One-cycle per step up to `maxLr` over `totalSteps` steps (give it to Train.startScheduled).
    let oneCycle (maxLr: float) (totalSteps: int) : Optim.Schedule = Optim.OneCycle(maxLr, totalSteps)
    /// Applies an epoch schedule to the run.
    let apply (schedule: Optim.Schedule) (run: seq<EpochResult>) : seq<EpochResult> = run.Schedule schedule
    /// Lowers the rate by `factor` after `patience` epochs without a better `figure`.
    let onPlateau (figure: string) (factor: float) (patience: int) (run: seq<EpochResult>) : seq<EpochResult> =
        run.ReduceOnPlateau(Optim.ReduceOnPlateau(Factor = factor, Patience = patience), figure)

/// Printing over the run.
[<RequireQualifiedAccess>]
module Report =
    /// Prints each epoch's line.
    let print (run: seq<EpochResult>) : seq<EpochResult> = run.Print()
