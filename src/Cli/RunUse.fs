/// Using a finished run: `nv predict --model runs/NAME IMAGE…` (the top classes of each image) and
/// `nv evaluate --model runs/NAME --data DIR` (accuracy, per-class precision and recall, confusion matrix).
module NeuralVision.Cli.RunUse

open System
open System.IO
open NeuralVision
open NeuralVision.Data
open NeuralVision.Cli.RunFolder

/// The `top` most probable classes of each image, printed; images that cannot be read are named and skipped.
let predict (dir: string) (images: string list) (top: int) : int =
    let settings, trained = trainedModel dir
    let model = trained.ForInference() // only predicted with: BatchNorm folded into the convolutions
    let mutable failures = 0
    for path in images do
        let read () = if File.Exists path then ImageFolder.ReadResized(path, settings.Size, settings.Size, 3) else raise (DataException $"{path}: no such file.")
        match (try Ok (read ()) with :? DataException as e -> Error e.Message) with
        | Error message ->
            eprintfn "%s" message
            failures <- failures + 1
        | Ok pixels ->
            let input = (ImageSet(pixels, 1, 3, settings.Size, settings.Size, [| 0uy |], settings.Classes).ToData()).Inputs
            let probabilities = Model.predict model input |> Tensor.softmax 1 |> Tensor.values
            let best = probabilities |> Array.indexed |> Array.sortByDescending snd |> Array.truncate top
            printfn "%s: %s" path (String.Join(", ", [ for c, p in best -> $"{settings.Classes.[c]} {p:P1}" ]))
    if failures = 0 then 0 else 1

/// The run's model on a labelled image tree whose class folders are the run's classes; the figures are printed
/// and written to the run folder (evaluation.txt).
let evaluate (dir: string) (data: string) : int =
    let settings, trained = trainedModel dir
    let model = trained.ForInference() // only predicted with: BatchNorm folded into the convolutions
    let images, skipped = ImageTraining.loadImages data settings.Size
    for s in skipped do eprintfn "skipped %s" s
    let unknown = images.Classes |> Seq.filter (fun c -> not (Array.contains c settings.Classes)) |> List.ofSeq
    if not unknown.IsEmpty then
        let unseen, known = String.Join(", ", unknown), String.Join(", ", settings.Classes)
        raise (DataException $"{data} has class folders the run never saw ({unseen}); the run knows {known}.")
    // The folder's own class order may differ from the run's: map its labels to the run's indices.
    let toRun = [| for c in images.Classes -> int64 (Array.IndexOf(settings.Classes, c)) |]
    let labelled = Dataset.ofImages images |> Dataset.mapTargets (fun t -> tensor [| for l in Tensor.values t -> toRun.[int l] |])
    let outcome = ClassifierReport.measure model settings.Classes labelled
    let text = $"{data}: {Dataset.count labelled} images" + Environment.NewLine + ClassifierReport.text outcome
    printf "%s" text
    let path = Path.Combine(dir, "evaluation.txt")
    AtomicFile.Write(path, fun stream -> stream.Write(Text.Encoding.UTF8.GetBytes text))
    printfn "written to %s" path
    0
