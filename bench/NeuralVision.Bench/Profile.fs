/// Where a pass spends its time, layer by layer: `./nv bench profile`. Every leaf module gets TorchSharp forward
/// hooks (the time between its pre-hook and its hook is its forward), and in training its input and output pass
/// through an identity autograd function whose backward notes the time, so a layer's backward is the time from
/// the gradient reaching its output to the gradient leaving its input (libtorch's CPU autograd engine runs one
/// node at a time on the calling thread, so these intervals do not overlap). Pairs that run as one operation (a
/// convolution and the ReLU after it, a ReLU and the max pool after it: SequenceModule) call neither module's hooks:
/// their time is counted outside the layers.
module NeuralVision.Bench.Profile

open System
open System.Collections.Generic
open System.Diagnostics
open TorchSharp
open NeuralVision
open NeuralVision.Bench.Measure

/// Identity in the forward pass; in the backward pass calls the callback it was given, then passes the gradient on.
type private Marker() =
    inherit torch.autograd.SingleTensorFunction<Marker>()
    override _.Name = "profileMarker"
    override _.forward(ctx, vars) =
        ctx.save_data("callback", vars.[1])
        (vars.[0] :?> torch.Tensor).alias()
    override _.backward(ctx, gradient) =
        (ctx.get_data "callback" :?> Action).Invoke()
        List [ gradient; null ]

/// One leaf layer's share: its path, its kind, milliseconds per pass forward and backward.
type LayerTime = { Path: string; Kind: string; ForwardMs: float; BackwardMs: float }

/// A profile: the leaf layers' times, and the whole pass's median milliseconds without the profiler (which also
/// holds what no layer owns: the loss, the optimiser, interop between layers) and with it (its own cost shows).
type Profile = { Layers: LayerTime list; PassMs: float; ProfiledPassMs: float }

/// Profiles `passes` runs of `pass` (after one unmeasured run) on a model.
let layers (model: Layers.Model) (passes: int) (pass: unit -> unit) =
    pass ()
    let plain = median [ for _ in 1 .. passes -> seconds pass * 1000. ]
    let clock = Stopwatch.StartNew()
    let now () = clock.Elapsed.TotalMilliseconds
    let forward, backward = Dictionary<string, float>(), Dictionary<string, float>()
    let add (table: Dictionary<string, float>) key ms = table.[key] <- (match table.TryGetValue key with | true, v -> v | _ -> 0.) + ms
    let started, gradientArrived = Dictionary<string, float>(), Dictionary<string, float>()
    let kinds = Dictionary<string, string>()
    let hooks = List<unit -> unit>()
    let marked (x: torch.Tensor) (callback: unit -> unit) =
        if x.requires_grad && torch.is_grad_enabled () then Marker.apply(x, Action callback) else x
    for struct (path, m) in (Layers.TorchSharpEscape.Module model).named_modules() do
        match m with
        | :? torch.nn.Module<torch.Tensor, torch.Tensor> as leaf when Seq.isEmpty (m.children()) ->
            kinds.[path] <- m.GetType().Name.Replace("Module", "")
            let before = leaf.register_forward_pre_hook(fun _ input ->
                started.[path] <- now ()
                marked input (fun () -> if gradientArrived.ContainsKey path then add backward path (now () - gradientArrived.[path])))
            let after = leaf.register_forward_hook(fun _ _ output ->
                add forward path (now () - started.[path])
                marked output (fun () -> gradientArrived.[path] <- now ()))
            hooks.Add(fun () -> before.remove (); after.remove ())
        | _ -> ()
    pass ()
    forward.Clear(); backward.Clear()
    let profiled = List.init passes (fun _ -> seconds pass * 1000.) |> List.sum
    for remove in hooks do remove ()
    let rows =
        [ for KeyValue(path, kind) in kinds ->
            { Path = path; Kind = kind
              ForwardMs = (match forward.TryGetValue path with | true, v -> v / float passes | _ -> 0.)
              BackwardMs = (match backward.TryGetValue path with | true, v -> v / float passes | _ -> 0.) } ]
    { Layers = rows; PassMs = plain; ProfiledPassMs = profiled / float passes }

/// Profiles `passes` predictions of a model that oneDNN plans run, step by step (`Model.ProfilePrediction`): a step is
/// a row under its layer's path, its kind what it does (a convolution with what is fused into it, a reorder, …).
let predictionSteps (model: Layers.Model) (passes: int) (batch: torch.Tensor) =
    let predict () = (use _ = torch.NewDisposeScope() in model.Predict batch |> ignore)
    predict ()
    let plain = median [ for _ in 1 .. passes -> seconds predict * 1000. ]
    let runs = List.init passes (fun _ -> model.ProfilePrediction batch)
    let rows =
        runs
        |> List.collect (fun steps -> [ for i, s in Seq.indexed steps -> (i, s) ])
        |> List.groupBy fst
        |> List.map (fun (_, steps) ->
            let s = snd steps.Head
            { Path = s.Path; Kind = s.Operation; ForwardMs = (steps |> List.sumBy (fun (_, t) -> t.Milliseconds)) / float passes; BackwardMs = 0. })
    { Layers = rows; PassMs = plain; ProfiledPassMs = (runs |> List.sumBy (Seq.sumBy (fun t -> t.Milliseconds))) / float passes }

/// The rows summed by kind of layer, slowest first.
let byKind (rows: LayerTime list) =
    rows
    |> List.groupBy (fun r -> r.Kind)
    |> List.map (fun (kind, rs) -> {| kind = kind; layers = rs.Length; forward_ms = rs |> List.sumBy (fun r -> r.ForwardMs); backward_ms = rs |> List.sumBy (fun r -> r.BackwardMs) |})
    |> List.sortByDescending (fun k -> k.forward_ms + k.backward_ms)

/// Profiles `passes` training steps of a plain pipeline on its written-out pass (ManualBackward), whose layers' hooks
/// do not run: each stage timed by the step itself into a LayerTimer (a stage is a layer, or a layer with its ReLU).
let writtenOut (state: Training.TrainState) (passes: int) (batch: unit -> Data.Batch) =
    let mutable plainState = state
    let step () = plainState <- Training.Train.Step(plainState, batch ())
    step ()
    let plain = median [ for _ in 1 .. passes -> seconds step * 1000. ]
    let timer = Training.LayerTimer()
    let mutable timed = plainState.WithLayerTimer timer
    let profiled = median [ for _ in 1 .. passes -> seconds (fun () -> timed <- Training.Train.Step(timed, batch ())) * 1000. ]
    let steps = float timer.Steps
    let layers =
        [ for s in timer.Stages ->
            { Path = (if s.FirstLayer = s.LastLayer then string s.FirstLayer else $"{s.FirstLayer}-{s.LastLayer}")
              Kind = s.Kind; ForwardMs = s.Forward.TotalMilliseconds / steps; BackwardMs = s.Backward.TotalMilliseconds / steps } ]
    { Layers = layers; PassMs = plain; ProfiledPassMs = profiled }

/// Prints a profile: the kinds, then the slowest layers; returns it as JSON-ready values.
let report (title: string) (profile: Profile) =
    let rows = profile.Layers
    // Milliseconds to three places for passes of a few milliseconds (LeNet's), to one for longer ones.
    let format = if profile.PassMs < 10. then "F3" else "F1"
    let ms (x: float) = x.ToString(format, Globalization.CultureInfo.InvariantCulture)
    printfn ""
    printfn "%s: %s ms per pass (%s ms profiled)" title (ms profile.PassMs) (ms profile.ProfiledPassMs)
    printfn "  %-28s %6s %12s %12s" "layer kind" "layers" "forward ms" "backward ms"
    let kinds = byKind rows
    for k in kinds do printfn "  %-28s %6d %12s %12s" k.kind k.layers (ms k.forward_ms) (ms k.backward_ms)
    let layerTotal = kinds |> List.sumBy (fun k -> k.forward_ms + k.backward_ms)
    printfn "  %-28s %6s %12s  (%.0f %% of the profiled pass)" "all layers" "" (ms layerTotal) (100. * layerTotal / profile.ProfiledPassMs)
    printfn "  slowest layers:"
    for r in rows |> List.sortByDescending (fun r -> r.ForwardMs + r.BackwardMs) |> List.truncate 8 do
        printfn "    %-34s %-26s %8s %8s" r.Path r.Kind (ms r.ForwardMs) (ms r.BackwardMs)
    {| pass_ms = profile.PassMs; profiled_pass_ms = profile.ProfiledPassMs; kinds = kinds
       layers = [ for r in rows -> {| path = r.Path; kind = r.Kind; forward_ms = r.ForwardMs; backward_ms = r.BackwardMs |} ] |}
