/// report.html: one self-contained page (pictures embedded as data URLs) that explains a run — its curves, its
/// confusion matrix, its worst-classified validation images, the per-class table, the model and its settings.
module NeuralVision.Cli.RunReport

open System
open System.IO
open System.Net
open System.Text
open NeuralVision
open NeuralVision.Cli.RunFolder
open NeuralVision.Cli.ClassifierReport

let private embed (png: string) = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes png)
let private html (s: string) = WebUtility.HtmlEncode s

/// Draws the run's pictures into DIR/pictures and writes DIR/report.html with them embedded; returns the page's path.
let write (dir: string) (settings: RunSettings) (metrics: (int * Map<string, float>) list) (model: Layers.Model)
          (outcome: Outcome) (validation: TensorData) (notes: string list) : string =
    let pictures = Path.Combine(dir, "pictures")
    Directory.CreateDirectory pictures |> ignore
    let picture name = Path.Combine(pictures, name)
    let epochs = [| for e, _ in metrics -> float e |]
    let series name figure = name, epochs, [| for _, m in metrics -> m.[figure] |]
    Chart.lines(picture "loss.png", "Loss per epoch", "epoch", "loss", [ series "training" "train_loss"; series "validation" "val_loss" ], markers = true)
    Chart.lines(picture "accuracy.png", "Validation accuracy per epoch", "epoch", "accuracy", [ series "validation" "accuracy" ], markers = true)
    Plot.Charts.Confusion(picture "confusion.png", "Validation confusion matrix", outcome.Confusion, outcome.Classes)
    let hasWorst = drawWorst (picture "worst.png") outcome validation
    let b = StringBuilder()
    let add (s: string) = b.AppendLine s |> ignore
    let name = Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'))
    add "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    add $"<title>{html name}: NeuralVision run</title>"
    add """<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } .lead { color: #555; margin-top: 0; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } figure img { max-width: 520px; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; } table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; } th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
</style></head><body>"""
    let best = metrics |> List.maxBy (fun (_, m) -> m.["accuracy"])
    add $"<h1>{html name}</h1>"
    add $"""<p class="lead">{html settings.Arch}{(if settings.Pretrained then " (ImageNet-pretrained)" else "")} on {html settings.Data}: {settings.Classes.Length} classes, {Dataset.count validation} validation images. Validation accuracy {outcome.Accuracy:P2} (best epoch {fst best}: {(snd best).["accuracy"]:P2}).</p>"""
    for n in notes do add $"<p>{html n}</p>"
    add "<h2>Training</h2><div class=\"figures\">"
    add $"""<figure><img src="{embed (picture "loss.png")}" alt="loss curves"><figcaption>Training and validation loss.</figcaption></figure>"""
    add $"""<figure><img src="{embed (picture "accuracy.png")}" alt="accuracy curve"><figcaption>Validation accuracy.</figcaption></figure>"""
    add "</div><h2>Validation</h2><div class=\"figures\">"
    add $"""<figure><img src="{embed (picture "confusion.png")}" alt="confusion matrix"><figcaption>Rows: true class; columns: predicted. Shading: share of the row.</figcaption></figure>"""
    if hasWorst then
        add $"""<figure><img src="{embed (picture "worst.png")}" alt="worst-classified images"><figcaption>The worst-classified images: predicted class and probability, true class and its probability.</figcaption></figure>"""
    add "</div><h3>Per class</h3><table><tr><th>class</th><th>precision</th><th>recall</th><th>images</th></tr>"
    for c in outcome.PerClass do
        add $"<tr><td>{html c.Class}</td><td>{c.Precision:F3}</td><td>{c.Recall:F3}</td><td>{c.Support}</td></tr>"
    add "</table><h2>Model</h2>"
    add $"<pre>{html (Model.summary model)}</pre>"
    add "<h2>Settings</h2><table><tr><th>setting</th><th>value</th></tr>"
    for field in Reflection.FSharpType.GetRecordFields(typeof<RunSettings>) do
        let value =
            match field.GetValue settings with
            | :? (string[]) as a -> String.Join(", ", a)
            | v -> string v
        add $"<tr><td>{html field.Name}</td><td>{html value}</td></tr>"
    add "</table><h3>Epochs</h3><table><tr><th>epoch</th>"
    for f in figures do add $"<th>{f}</th>"
    add "</tr>"
    for e, m in metrics do
        add $"""<tr><td>{e}</td>{String.Join("", [ for f in figures -> $"<td>{m.[f]:G4}</td>" ])}</tr>"""
    add "</table>"
    // Marks the page with how many of its pictures the browser decoded (read by the tests through headless Chromium).
    add "<script>window.addEventListener('load', () => { const all = [...document.images]; document.body.dataset.images = all.filter(i => i.complete && i.naturalWidth > 0).length + '/' + all.length; });</script>"
    add "</body></html>"
    let path = reportPath dir
    AtomicFile.Write(path, fun stream -> stream.Write(Encoding.UTF8.GetBytes(b.ToString())))
    path
