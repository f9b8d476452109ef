/// `nv train --data DIR`: a classifier trained on a class-per-folder image tree, leaving runs/NAME/ with the
/// weights, the settings, metrics.csv, TensorBoard events, report.html and model.onnx; `nv predict` and
/// `nv evaluate` use such a folder.
module NeuralVision.Cli.ImageTraining

open System
open System.IO
open NeuralVision
open NeuralVision.Data
open NeuralVision.Cli.RunFolder

/// The images of a class-per-folder tree at size × size RGB, refusing what cannot train a classifier: no class
/// folders, an empty class, a single class. Unreadable images are skipped and listed.
let loadImages (dir: string) (size: int) : ImageSet * string list =
    let skipped = Collections.Generic.List<string>()
    let images = ImageFolder.LoadSkippingUnreadable(dir, size, size, 3, skipped)
    let counts = Array.countBy id images.Labels |> Map.ofArray
    match images.Classes |> Seq.indexed |> Seq.tryFind (fun (i, _) -> not (counts.ContainsKey(byte i))) with
    | Some (_, empty) ->
        raise (DataException $"{Path.Combine(dir, empty)}: the class '{empty}' has no readable images; add some or remove the folder.")
    | None -> ()
    if images.Classes.Count < 2 then
        raise (DataException $"{dir}: only one class ('{images.Classes.[0]}'); a classifier needs two or more class folders (DIR/CLASS/*.png).")
    images, List.ofSeq skipped

let private say (skipped: string list) =
    if not skipped.IsEmpty then
        eprintfn "skipped %d unreadable image(s):" skipped.Length
        for s in List.truncate 10 skipped do eprintfn "  %s" s
        if skipped.Length > 10 then eprintfn "  … and %d more" (skipped.Length - 10)

/// Epoch figures as TensorBoard scalars, and a grid of validation predictions as an image.
let private tensorBoard (dir: string) =
    let writer = TorchSharp.torch.utils.tensorboard.SummaryWriter(tensorBoardDir dir)
    let now () = Nullable(DateTimeOffset.UtcNow.ToUnixTimeSeconds())
    let scalars (epoch: int, values: Map<string, float>) =
        for KeyValue (figure, value) in values do writer.add_scalar($"epoch/{figure}", float32 value, epoch, now ())
    let image (tag: string) (png: string) (epoch: int) = writer.add_img(tag, png, epoch, now ())
    scalars, image

/// The run's results up to and including epoch `last`, without training a further epoch to find out.
let private through (last: int) (run: seq<EpochResult>) : seq<EpochResult> =
    seq {
        use results = run.GetEnumerator()
        let mutable going = true
        while going && results.MoveNext() do
            yield results.Current
            going <- results.Current.Epoch < last
    }

/// What rank 0 leaves in the run folder once training ends: weights, ONNX, the prediction grid and the report.
let private finish (settings: RunSettings) (dir: string) model (validation: TensorData) rows (skipped: string list) image : float =
    Checkpoint.saveWeights (weightsPath dir) model
    Onnx.export (onnxPath dir) model
    let outcome = ClassifierReport.measure model settings.Classes validation
    let grid = Path.Combine(dir, "pictures", "validation-predictions.png")
    Directory.CreateDirectory(Path.GetDirectoryName grid) |> ignore
    let shown = min 16 (Dataset.count validation)
    let predicted = Model.predict model validation.Inputs.[0..shown - 1, *, *, *] |> Tensor.argmax 1 |> Tensor.values
    let truth = Tensor.values validation.Targets
    Chart.images(grid, validation.Inputs.[0..shown - 1, *, *, *],
                 [ for i in 0 .. shown - 1 -> $"{settings.Classes.[int predicted.[i]]} (true {settings.Classes.[int truth.[i]]})" ], columns = 8)
    image "validation predictions" grid (List.length rows)
    let notes = if skipped.IsEmpty then [] else [ $"{skipped.Length} unreadable image(s) were skipped." ]
    let report = RunReport.write dir settings rows model outcome validation notes
    printfn "%s" (ClassifierReport.text outcome)
    printfn "run folder: %s (report: %s)" dir report
    outcome.Accuracy

/// Trains (or resumes) the run in `dir` on `ranks` (every rank runs this; rank 0 alone writes and prints); returns the
/// validation accuracy of the final model.
let train (settings: RunSettings) (dir: string) (resume: bool) (ranks: Distributed.Communicator) : float =
    Seed.set settings.Seed
    let printfn format = Printf.kprintf (fun line -> if ranks.IsRoot then Console.WriteLine line) format
    let images, skipped = loadImages settings.Data settings.Size
    if ranks.IsRoot then say skipped
    let settings = { settings with Classes = Array.ofSeq images.Classes }
    ranks.Agree [ struct ("the number of images", float images.Count)
                  struct ("the fingerprint of the class names", Distributed.Communicator.Fingerprint(String.Join("/", settings.Classes)))
                  struct ("the fingerprint of the run's settings", Distributed.Communicator.Fingerprint(string settings)) ]
    let train, validation = Dataset.ofImages images |> Dataset.split settings.Validation settings.Seed
    if Dataset.count validation = 0 then
        raise (DataException $"{settings.Data}: {Dataset.count train} images leave none for validation at {settings.Validation:P0}; add images or raise --validation.")
    printfn "%s: %d classes (%s), %d training and %d validation images at %dx%d" settings.Data settings.Classes.Length
        (String.Join(", ", settings.Classes)) (Dataset.count train) (Dataset.count validation) settings.Size settings.Size
    if ranks.IsRoot then
        Directory.CreateDirectory dir |> ignore
        save dir settings
    let model = build settings
    let loader = batches settings.Batch train
    let loader =
        if settings.Augment then
            loader.WithAugmentation(Augmenter.Of(AugmentTargets.Labels, RandomCrop(max 1 (settings.Size / 16)), HorizontalFlip()))
        else loader
    // Fine-tuning keeps ImageNet's BatchNorm statistics and moves the backbone at a tenth of the new head's rate.
    let groups =
        if settings.Pretrained then
            Transfer.freezeWhere (fun row -> row.Layer.StartsWith "batchNorm") model |> ignore
            [ "fc", settings.Lr; "", settings.Lr / 10.0 ]
        else []
    let options = { Train.defaults with Groups = groups; ResumeFrom = (if resume then Some (statePath dir) else None); Ranks = ranks }
    let run = Train.fit options (adam settings.Lr) crossEntropy model loader
    let before = if resume then readMetrics dir else []
    let trained = before |> List.map fst |> List.fold max 0
    if resume then
        if trained >= settings.Epochs then
            raise (DataException $"{dir} has already trained {trained} epochs; resume with --epochs above {trained} to train more.")
        printfn "resuming %s after epoch %d" dir trained
    let scalars, image = if ranks.IsRoot then tensorBoard dir else ignore, (fun _ _ _ -> ())
    // Each epoch's row is written before its checkpoint: a run killed in between resumes from the epoch before and
    // writes that row again, so metrics.csv never lacks an epoch the checkpoint has.
    let rows = Collections.Generic.List<int * Map<string, float>>(before)
    let record (result: EpochResult) =
        let epoch, values as row = metricRow result
        rows.RemoveAll(fun (e, _) -> e >= epoch) |> ignore
        rows.Add row
        scalars row
        if ranks.IsRoot then writeMetrics dir (List.ofSeq rows)
        printfn "epoch %d: %s" epoch (String.Join(", ", [ for f in figures -> $"{f} {values.[f]:G4}" ]))
        result
    run
    |> Seq.map (Eval.on validation Metric.accuracy >> record)
    |> Checkpoint.every (statePath dir)
    |> EarlyStop.patience settings.Patience
    |> through settings.Epochs
    |> Seq.iter ignore
    let rows = List.ofSeq rows
    if ranks.IsRoot then finish settings dir model validation rows skipped image else (snd (List.last rows)).["accuracy"]
