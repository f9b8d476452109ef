/// Losses, optimisers, metrics and training as a fold, from F#:
///
///     Train.fit Train.defaults (adam 1e-3) crossEntropy model (train |> batches 64)
///     |> Seq.map (Eval.on test Metric.accuracy)
///     |> EarlyStop.patience 3
///     |> Seq.truncate 20
///     |> Seq.last
namespace NeuralVision

open System
open NeuralVision.Training

type Loss = Losses.Loss
type Optimiser = Optim.Optimiser
type Metric = Training.Metric
type TrainState = Training.TrainState
type EpochResult = Training.EpochResult

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

    /// The points `steps` steps of the optimiser visit on a scalar function f from `start` (start first):
    /// `minimise (sgd 0.01) 500 f [ 8.0; 8.0 ]`. For drawing optimisation paths on contours.
    let minimise (optimiser: Optimiser) (steps: int) (f: Tensor -> Tensor) (start: float list) : float[][] =
        optimiser.Minimise(Func<_, _> f, Array.ofList start, steps)

/// Optimisers with their options as named arguments: `Optimiser.Adam(1e-3, weightDecay = 1e-2)`,
/// `Optimiser.Sgd(0.1, momentum = 0.9, nesterov = true)`. Every option left out takes PyTorch's default;
/// each gives an Optimiser, so optimisers of different kinds sit in one list.
[<AutoOpen>]
module OptimiserOptions =
    type Optim.Optimiser with
        /// SGD, with heavy-ball or Nesterov momentum, dampening and L2 weight decay.
        static member Sgd(lr: float, ?momentum: float, ?nesterov: bool, ?weightDecay: float, ?dampening: float) : Optimiser =
            Optim.Sgd(lr, defaultArg momentum 0.0, defaultArg dampening 0.0, defaultArg nesterov false, defaultArg weightDecay 0.0)
        /// Adam, with its betas, epsilon, L2 weight decay and the AMSGrad variant.
        static member Adam(lr: float, ?betas: float * float, ?eps: float, ?weightDecay: float, ?amsgrad: bool) : Optimiser =
            let beta1, beta2 = defaultArg betas (0.9, 0.999)
            Optim.Adam(lr, beta1, beta2, defaultArg eps 1e-8, defaultArg weightDecay 0.0, defaultArg amsgrad false)
        /// AdamW: Adam with decoupled weight decay (0.01 unless given).
        static member AdamW(lr: float, ?betas: float * float, ?eps: float, ?weightDecay: float, ?amsgrad: bool) : Optimiser =
            let beta1, beta2 = defaultArg betas (0.9, 0.999)
            Optim.AdamW(lr, beta1, beta2, defaultArg eps 1e-8, defaultArg weightDecay 0.01, defaultArg amsgrad false)
        /// RMSprop, with its smoothing constant alpha, epsilon, weight decay, momentum and the centred variant.
        static member RmsProp(lr: float, ?alpha: float, ?eps: float, ?weightDecay: float, ?momentum: float, ?centered: bool) : Optimiser =
            Optim.RmsProp(lr, defaultArg alpha 0.99, defaultArg eps 1e-8, defaultArg weightDecay 0.0, defaultArg momentum 0.0, defaultArg centered false)
        /// Adagrad, with rate decay, weight decay and epsilon.
        static member Adagrad(lr: float, ?lrDecay: float, ?weightDecay: float, ?eps: float) : Optimiser =
            Optim.Adagrad(lr, defaultArg lrDecay 0.0, defaultArg weightDecay 0.0, defaultArg eps 1e-10)
        /// Rprop, with its step factors (etas: shrink, grow) and step-size bounds (min, max).
        static member Rprop(lr: float, ?etas: float * float, ?stepSizes: float * float) : Optimiser =
            let etaMinus, etaPlus = defaultArg etas (0.5, 1.2)
            let minStep, maxStep = defaultArg stepSizes (1e-6, 50.0)
            Optim.Rprop(lr, etaMinus, etaPlus, minStep, maxStep)

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

/// Metrics by name: `Eval.on test Metric.accuracy`.
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
    /// The metric of outputs against targets, in one go: `Metric.value Metric.psnr upscaled truth`.
    let value (metric: Metric) (outputs: Tensor) (targets: Tensor) : float = metric.Finish.Invoke(metric.Sums.Invoke(outputs, targets))

/// How a run trains and what it shows: `Train.defaults` with the fields you change,
/// e.g. `{ Train.defaults with ClipGradNorm = Some 1.0; Progress = false }`.
type TrainOptions =
    { /// Clip the gradients' global norm to this before each step.
      ClipGradNorm: float option
      /// A per-step learning-rate schedule (Schedule.oneCycle); epoch schedules go on the run (Schedule.apply).
      StepSchedule: Optim.Schedule option
      /// A learning rate per path prefix, e.g. [ "fc", 1e-3; "", 1e-4 ]: the first matching prefix wins, "" is the
      /// rest. Empty: the optimiser's rate for every parameter.
      Groups: (string * float) list
      /// A progress bar on the console (true) or nothing (false).
      Progress: bool
      /// Observers of every step and epoch besides the progress bar (e.g. StepLosses for a loss curve).
      Observers: ITrainingObserver list
      /// A checkpoint (written by Checkpoint.every) to continue from: weights, optimiser state, epoch and random state
      /// are restored into the start these options describe, so the run goes on as if it had not stopped.
      ResumeFrom: string option
      /// The ranks that train together under mpirun (`Ranks.world ()`): each takes its share of every batch and the
      /// gradients are averaged; only rank 0 shows progress. `Ranks.single` (the default): this process alone.
      Ranks: Distributed.Communicator }

/// Training as a fold: `Train.fit` gives the lazy run of a fresh model, one result per epoch; `Train.start`,
/// `Train.step` and `Train.epoch` are the fold itself.
[<RequireQualifiedAccess>]
module Train =
    /// No clipping, no per-step schedule, one rate, a progress bar.
    let defaults : TrainOptions =
        { ClipGradNorm = None; StepSchedule = None; Groups = []; Progress = true; Observers = []; ResumeFrom = None
          Ranks = Distributed.Communicator.Single }
    /// The defaults without the progress bar.
    let quiet : TrainOptions = { defaults with Progress = false }

    /// The state before the first step (no options: `Train.fit` takes them).
    let start (optimiser: Optimiser) (loss: Loss) (model: Layers.Model) : TrainState = Train.Start(model, optimiser, loss)
    /// One step: State → Batch → State.
    let step (state: TrainState) (batch: Batch) : TrainState = Train.Step(state, batch)
    /// The state with every step through autograd's graph of the whole model, where module hooks must run (a plain
    /// pipeline otherwise trains on its backward pass written out: the same gradients, less overhead).
    let withAutograd (state: TrainState) : TrainState = state.WithAutograd()
    /// The state with each step's written-out pass timed layer by layer into `timer` (see `LayerTimer.Stages`).
    let withLayerTimer (timer: LayerTimer) (state: TrainState) : TrainState = state.WithLayerTimer timer
    /// One epoch: `step` folded over the batches.
    let epoch (state: TrainState) (batches: seq<Batch>) : TrainState = Train.Epoch(state, batches)

    let private observerOf (options: TrainOptions) : ITrainingObserver =
        let all = (if options.Progress && options.Ranks.IsRoot then [ new ConsoleProgress() :> ITrainingObserver ] else []) @ options.Observers
        match all with
        | [] -> null
        | [ one ] -> one
        | many -> Observers.Combine(Array.ofList many)

    /// The lazy run continuing from a state (a resumed checkpoint, or an earlier result's `.State`): only the
    /// options of what it shows apply, since clipping, schedule and groups were fixed when the state started.
    let run (options: TrainOptions) (loader: Loader) (state: TrainState) : seq<EpochResult> =
        if options.ClipGradNorm.IsSome || options.StepSchedule.IsSome || not options.Groups.IsEmpty || options.ResumeFrom.IsSome
           || not (obj.ReferenceEquals(options.Ranks, state.Ranks) || not options.Ranks.IsDistributed) then
            invalidArg "options" "Train.run continues a state whose clipping, per-step schedule, groups, checkpoint and ranks were set when it started; give those options to Train.fit, which starts the run."
        Train.Run(state, loader, observerOf options)

    /// The lazy run of a model from its current weights (or from `ResumeFrom`): optimiser, loss, model, loader; one
    /// result per epoch.
    let fit (options: TrainOptions) (optimiser: Optimiser) (loss: Loss) (model: Layers.Model) (loader: Loader) : seq<EpochResult> =
        let groups = if options.Groups.IsEmpty then null else [| for prefix, lr in options.Groups -> struct (prefix, lr) |]
        let start =
            Train.Start(model, optimiser, loss, clipGradNorm = Option.toNullable options.ClipGradNorm,
                        stepSchedule = Option.toObj options.StepSchedule, groups = groups)
        let start = match options.ResumeFrom with Some path -> Training.Checkpoint.Load(path, start) | None -> start
        let start = if options.Ranks.IsDistributed then start.WithRanks options.Ranks else start
        start |> run { options with ClipGradNorm = None; StepSchedule = None; Groups = []; ResumeFrom = None } loader

/// The processes of a data-parallel job (`mpirun -np N dotnet fsi script.fsx`): `{ Train.defaults with Ranks = Ranks.world () }`.
[<RequireQualifiedAccess>]
module Ranks =
    /// MPI's world when this process was started by mpirun, else this process alone.
    let world () : Distributed.Communicator = Distributed.Communicator.World()
    /// This process alone.
    let single : Distributed.Communicator = Distributed.Communicator.Single

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
    /// One-cycle per step up to `maxLr` over `totalSteps` steps (a per-step schedule: TrainOptions.StepSchedule).
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
