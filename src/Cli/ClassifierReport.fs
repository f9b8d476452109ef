/// How a classifier did on labelled images: accuracy, the confusion matrix, per-class precision and recall,
/// and the worst-classified images — computed once, printed by `nv evaluate`, drawn into report.html.
module NeuralVision.Cli.ClassifierReport

open System
open System.IO
open System.Text
open NeuralVision

type ClassResult = { Class: string; Precision: float; Recall: float; Support: int }

type Outcome =
    { Classes: string[]
      Accuracy: float
      /// Confusion.[truth, predicted] = count.
      Confusion: int[,]
      PerClass: ClassResult list
      /// (index, true class, predicted class, probability of the predicted class, probability of the true class)
      Worst: (int * int * int * float * float) list }

/// The model's outcome on data whose targets are class indices into `classes`.
let measure (model: Layers.Model) (classes: string[]) (data: TensorData) : Outcome =
    let probabilities =
        [| for batch in Training.Evaluation.Batches data do
               use batch = batch
               let p = Model.predict model batch.Inputs |> Tensor.softmax 1 |> Tensor.toFloats2D
               yield! Array.init (Array2D.length1 p) (fun i -> p.[i, *]) |]
    let truth = Tensor.values data.Targets |> Array.map int
    let predicted = probabilities |> Array.map (fun p -> Array.findIndex ((=) (Array.max p)) p)
    let n = classes.Length
    let confusion = Array2D.zeroCreate n n
    Array.iter2 (fun t p -> confusion.[t, p] <- confusion.[t, p] + 1) truth predicted
    let share a b = if b = 0 then 0.0 else float a / float b
    let perClass =
        [ for c in 0 .. n - 1 ->
              let column = Seq.sum confusion.[*, c]
              let row = Seq.sum confusion.[c, *]
              { Class = classes.[c]; Precision = share confusion.[c, c] column; Recall = share confusion.[c, c] row; Support = row } ]
    let right = Array.map2 (fun t p -> if t = p then 1 else 0) truth predicted |> Array.sum
    let worst =
        [ for i in 0 .. truth.Length - 1 -> i, truth.[i], predicted.[i], probabilities.[i].[predicted.[i]], probabilities.[i].[truth.[i]] ]
        |> List.filter (fun (_, t, p, _, _) -> t <> p)
        |> List.sortBy (fun (_, _, _, _, pTrue) -> pTrue)
        |> List.truncate 16
    { Classes = classes; Accuracy = share right truth.Length; Confusion = confusion; PerClass = perClass; Worst = worst }

/// The outcome as text: accuracy, the per-class table, the confusion matrix.
let text (outcome: Outcome) : string =
    let b = StringBuilder()
    let width = max 9 (outcome.Classes |> Array.map String.length |> Array.max)
    b.AppendLine($"accuracy: %.4f{outcome.Accuracy}") |> ignore
    b.AppendLine($"""{"class".PadRight width}  precision  recall  images""") |> ignore
    for c in outcome.PerClass do
        b.AppendLine($"{c.Class.PadRight width}  %9.4f{c.Precision}  %6.4f{c.Recall}  %6d{c.Support}") |> ignore
    b.AppendLine("confusion matrix (rows: true class, columns: predicted):") |> ignore
    b.AppendLine(String(' ', width) + "  " + String.Join(" ", outcome.Classes |> Array.map (fun c -> (if c.Length > 6 then c.Substring(0, 6) else c).PadLeft 6))) |> ignore
    for t in 0 .. outcome.Classes.Length - 1 do
        b.AppendLine(outcome.Classes.[t].PadRight width + "  " + String.Join(" ", [| for p in 0 .. outcome.Classes.Length - 1 -> string outcome.Confusion.[t, p] |> fun s -> s.PadLeft 6 |])) |> ignore
    b.ToString()

/// The worst-classified images as a captioned grid (true and predicted class, their probabilities).
let drawWorst (path: string) (outcome: Outcome) (data: TensorData) =
    match outcome.Worst with
    | [] -> false
    | worst ->
        let images = Tensor.cat [ for i, _, _, _, _ in worst -> data.Inputs.[i..i, *, *, *] ]
        let captions = [ for _, t, p, pp, pt in worst -> $"{outcome.Classes.[p]} {pp:P0}, true {outcome.Classes.[t]} {pt:P0}" ]
        Chart.images(path, images, captions, columns = 4)
        true
