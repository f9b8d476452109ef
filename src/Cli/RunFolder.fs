/// A run folder (runs/NAME/): the settings a run was started with (checksummed JSON), the architectures it can
/// build, its metrics.csv, and its paths. `nv train` writes one; `--resume`, `nv predict` and `nv evaluate` read it.
module NeuralVision.Cli.RunFolder

open System
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open NeuralVision

/// What a run was started with: enough to rebuild its model and to check that a resumed run is the same run.
type RunSettings =
    { Data: string
      Arch: string
      Pretrained: bool
      Epochs: int
      Size: int
      Batch: int
      Lr: float
      Seed: int
      Validation: float
      Patience: int
      Augment: bool
      Classes: string[] }

let architectures = [ "lenet"; "small"; "resnet18" ]

let settingsPath (dir: string) = Path.Combine(dir, "settings.json")
let statePath (dir: string) = Path.Combine(dir, "state.nvck")
let weightsPath (dir: string) = Path.Combine(dir, "model.nvw")
let metricsPath (dir: string) = Path.Combine(dir, "metrics.csv")
let onnxPath (dir: string) = Path.Combine(dir, "model.onnx")
let reportPath (dir: string) = Path.Combine(dir, "report.html")
let tensorBoardDir (dir: string) = Path.Combine(dir, "tensorboard")

let private json = JsonSerializerOptions(WriteIndented = true)

/// Writes settings.json with its SHA-256 as the first property.
let save (dir: string) (settings: RunSettings) =
    let document = JsonObject()
    document.["sha256"] <- JsonValue.Create ""
    document.["settings"] <- JsonSerializer.SerializeToNode(settings, json)
    ChecksummedFile.WriteJson(settingsPath dir, document.ToJsonString json)

/// The settings of the run in `dir`; refuses a folder that is not a run, and a damaged settings file.
let load (dir: string) : RunSettings =
    if not (Directory.Exists dir) then
        raise (Data.DataException $"{dir}: no such run folder; give the folder `nv train --out` wrote (e.g. runs/NAME).")
    let path = settingsPath dir
    if not (File.Exists path) then
        raise (Data.DataException $"{dir} is not a NeuralVision run: it has no settings.json; give the folder `nv train --out` wrote.")
    let text =
        try ChecksummedFile.ReadJson path
        with :? InvalidDataException as e -> raise (Data.DataException $"{path} is not a NeuralVision run's settings: {e.Message}.")
    try (JsonNode.Parse text).["settings"].Deserialize<RunSettings>(json)
    with :? JsonException as e -> raise (Data.DataException $"{path} is not a NeuralVision run's settings: {e.Message}.")

/// The layer value of an architecture for `classes` classes (the pretrained ResNet-18 is built by `build`).
let private layer (arch: string) (classes: int) : Layer =
    match arch with
    | "lenet" -> Architectures.lenet classes
    | "small" ->
        let stage width = Layer.Conv2d(width, 3, padding = 1, bias = false) --> batchNorm2d --> relu
        stage 32 --> maxPool 2 --> stage 64 --> maxPool 2 --> stage 128 --> maxPool 2 --> stage 256
        --> globalAvgPool --> dropout 0.2 --> linear classes
    | "resnet18" -> Architectures.resnet18 classes
    | other ->
        let known = String.Join(", ", architectures)
        invalidArg "arch" $"unknown architecture '{other}'; use one of {known}."

/// The model a run trains: RGB inputs of size × size, one output per class.
let build (settings: RunSettings) : Layers.Model =
    let classes = settings.Classes.Length
    if settings.Pretrained then Onnx.pretrainedResNet18 classes [ 3; settings.Size; settings.Size ]
    else Model.build [ 3; settings.Size; settings.Size ] (layer settings.Arch classes)

/// The model of a finished run with its trained weights.
let trainedModel (dir: string) : RunSettings * Layers.Model =
    let settings = load dir
    let weights = weightsPath dir
    if not (File.Exists weights) then
        raise (Data.DataException $"{dir} has no trained weights (model.nvw): the run did not finish; resume it with `nv train --out {dir} --resume`.")
    let model = build settings
    Checkpoint.loadWeights weights model
    settings, model

/// The figures metrics.csv keeps for every epoch.
let figures = [ "train_loss"; "val_loss"; "accuracy"; "lr"; "seconds" ]

/// One epoch's row: its number and its figures.
let metricRow (r: EpochResult) : int * Map<string, float> =
    r.Epoch, Map.ofList [ "train_loss", r.TrainLoss; "val_loss", r.["val_loss"]; "accuracy", r.["accuracy"]
                          "lr", r.LearningRate; "seconds", r.Elapsed.TotalSeconds ]

/// Writes metrics.csv whole (a resumed run passes the rows before it too).
let writeMetrics (dir: string) (rows: (int * Map<string, float>) list) =
    let text (v: float) = v.ToString("R", Globalization.CultureInfo.InvariantCulture)
    let lines = [ yield "epoch," + String.Join(",", figures)
                  for epoch, values in rows -> $"{epoch}," + String.Join(",", [ for f in figures -> text values.[f] ]) ]
    AtomicFile.Write(metricsPath dir, fun stream -> stream.Write(Text.Encoding.UTF8.GetBytes(String.Join("\n", lines) + "\n")))

/// The rows of metrics.csv (none when there is no file yet).
let readMetrics (dir: string) : (int * Map<string, float>) list =
    let path = metricsPath dir
    if not (File.Exists path) then [] else
    match File.ReadAllLines path |> List.ofArray with
    | [] -> []
    | header :: rows ->
        let names = header.Split ',' |> Array.tail
        let number (c: string) = Double.Parse(c, Globalization.CultureInfo.InvariantCulture)
        [ for row in rows do
              let cells = row.Split ','
              yield int cells.[0], Map.ofArray (Array.zip names (cells |> Array.tail |> Array.map number)) ]
