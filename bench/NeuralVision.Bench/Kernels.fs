/// `./nv bench kernels`: each of NeuralVision's own CPU kernels against what libtorch (through TorchSharp) computes
/// in its place, on LeNet's shapes at batch 64, in alternating rounds in one process (the machine's speed drifts;
/// only ratios measured side by side mean much). The before/after figure of each kernel, reproducible.
module NeuralVision.Bench.Kernels

open System
open TorchSharp
open NeuralVision
open NeuralVision.Bench.Measure

/// Milliseconds per call of `a` and of `b`: medians of `rounds` alternating rounds of `calls` calls each.
let private alternate rounds calls (a: unit -> unit) (b: unit -> unit) =
    for _ in 1 .. 20 do a (); b ()
    let timed (f: unit -> unit) =
        let clock = Diagnostics.Stopwatch.StartNew()
        for _ in 1 .. calls do f ()
        clock.Elapsed.TotalMilliseconds / float calls
    let pairs = [ for _ in 1 .. rounds -> let ta = timed a in ta, timed b ]
    median (List.map fst pairs), median (List.map snd pairs)

/// Forward and backward of a layer of ours on `input` (which needs its gradient) against `reference` (libtorch's).
let private forwardBackward (layer: Layers.Layer) (inputShape: int list) (input: torch.Tensor) (reference: torch.Tensor -> torch.Tensor) =
    let model = Model.build inputShape layer
    model.Train()
    let upstream = torch.randn(model.Forward(input).shape)
    let run (forward: torch.Tensor -> torch.Tensor) () =
        use _ = torch.NewDisposeScope()
        torch.autograd.backward([| forward input |], [| upstream |])
    model, run model.Forward, run reference

/// Adam's step over `count` weights in the state that made it slow: a share of the weights had a tiny gradient once
/// and none since, so that their first moments decay through the floats below the normal range, as a dead unit's do
/// in real training. Ours (the fused passes) against TorchSharp's Adam, on equal copies with the same gradient.
let private adamWithSubnormalMoments (count: int64) (deadShare: float32) =
    let generator = new torch.Generator(11UL)
    let dead = torch.rand([| count |], generator = generator).lt(torch.tensor deadShare)
    let start = torch.randn([| count |], generator = generator).mul(torch.tensor 0.05f)
    let live () = torch.randn([| count |], generator = generator).where(dead.logical_not(), torch.tensor 0.0f)
    let ours, theirs = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    let flags = Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic
    let create = typeof<Optim.Optimiser>.GetMethod("CreateUpdater", flags, [| typeof<Collections.Generic.IEnumerable<Modules.Parameter>> |])
    let fused = create.Invoke(Optim.Adam(1e-3), [| box (seq [ ours ]) |]) :?> torch.optim.Optimizer
    let reference = torch.optim.Adam([ theirs ], 1e-3)
    // The step alone: the gradient is set, not computed (Adam without weight decay leaves it as it is).
    let step (optimiser: torch.optim.Optimizer) () =
        use _ = torch.NewDisposeScope()
        optimiser.step() |> ignore
    // The dead share's one tiny gradient: first moments of 1e-38 · 0.1, below the normal range from the start.
    let first = live().where(dead.logical_not(), torch.randn([| count |], generator = generator).mul(torch.tensor 1e-37f))
    ours.grad <- first; theirs.grad <- first
    step fused (); step reference ()
    // Fresh gradients each call would time the generator too: a fixed live gradient, zeros where dead.
    let gradient = live ()
    ours.grad <- gradient; theirs.grad <- gradient
    step fused, step reference,
    (fun () ->
        let rec field (t: Type) = match t.GetField("_state", flags) with null -> field t.BaseType | f -> f
        let states = (field (fused.GetType())).GetValue(fused) :?> Utils.OrderedDict<nativeint, Modules.OptimizerState>
        let m = (states.[ours.Handle] :?> Modules.Adam.State).exp_avg.abs()
        m.gt(torch.tensor 0.0f).logical_and(m.lt(torch.tensor 1.1754944e-38f)).to_type(torch.float32).mean().item<float32>())

let run (rounds: int) =
    let rounds = max rounds 5
    let results = Collections.Generic.List<obj>()
    let report name what (ours: float) (reference: float) =
        printfn "%-28s %-62s %8.3f %10.3f %8.2f" name what ours reference (reference / ours)
        results.Add {| name = name; what = what; neuralvision_ms = ours; libtorch_ms = reference; speedup = reference / ours |}
    printfn "NeuralVision's kernels against libtorch's, LeNet's shapes at batch 64; medians of %d alternating rounds; %d threads" rounds (torch.get_num_threads ())
    printfn "%-28s %-62s %8s %10s %8s" "kernel" "work" "ours ms" "libtorch ms" "speedup"
    torch.manual_seed 1L |> ignore
    for c, size in [ 6, 28; 16, 10 ] do
        let input = torch.randn([| 64L; int64 c; int64 size; int64 size |]).requires_grad_(true)
        let _, ours, theirs = forwardBackward (Layers.Net.MaxPool 2L) [ c; size; size ] input (fun x -> torch.nn.functional.max_pool2d(x, 2L, 2L))
        let a, b = alternate rounds 200 ours theirs
        report $"pool2x2_{c}x{size}x{size}" $"2x2 max pool of 64 x {c} x {size}x{size}, forward and backward (WindowMaxPool)" a b
    do
        // LeNet's first convolution: its input (the images) needs no gradient, so backward is the weights' and the bias's.
        let input = torch.randn([| 64L; 1L; 28L; 28L |])
        let model = Model.build [ 1; 28; 28 ] (Layers.Net.Conv2d(6L, 5L, padding = 2L))
        model.Train()
        let weight = model.Parameters |> Seq.find (fun p -> p.Path.EndsWith "weight")
        let bias = model.Parameters |> Seq.find (fun p -> p.Path.EndsWith "bias")
        let upstream = torch.randn([| 64L; 6L; 28L; 28L |])
        let run (forward: unit -> torch.Tensor) () =
            use _ = torch.NewDisposeScope()
            torch.autograd.backward([| forward () |], [| upstream |])
        let a, b =
            alternate rounds 200 (run (fun () -> model.Forward input))
                (run (fun () -> torch.nn.functional.conv2d(input, weight.Value, bias.Value, padding = [| 2L; 2L |])))
        report "conv_1to6_5x5_28x28" "convolution 1 -> 6 channels, 5x5, padding 2: forward, weights' gradient" a b
        // The same convolution with the ReLU after it, merged into it (relu as outputs are stored, one gradient pass).
        let merged = Model.build [ 1; 28; 28 ] (Layers.Net.Conv2d(6L, 5L, padding = 2L) --> relu)
        merged.Train()
        for (m, p) in Seq.zip merged.Parameters model.Parameters do (use _ = torch.no_grad() in m.Value.copy_(p.Value) |> ignore)
        let a, b =
            alternate rounds 200 (run (fun () -> merged.Forward input))
                (run (fun () -> torch.nn.functional.relu(torch.nn.functional.conv2d(input, weight.Value, bias.Value, padding = [| 2L; 2L |]))))
        report "conv_relu_1to6_5x5_28x28" "the same convolution and the ReLU after it, as one operation" a b
    for name, what, batch, channels, size, outputs, kernel, padding in
            [ "conv_6to16_5x5_14x14", "convolution 6 -> 16 channels, 5x5 (LeNet's second): forward, input's and weights' gradients (oneDNN primitives made once)", 64L, 6L, 14L, 16L, 5L, 0L
              "conv_64to64_3x3_16x16_b32", "convolution 64 -> 64, 3x3, padding 1, batch 32 (ResNet-18's first stage): the same, by Winograd's algorithm", 32L, 64L, 16L, 64L, 3L, 1L ] do
        // Convolutions DirectConvolution does not take: oneDNN primitives made once per shape (OneDnnConvolution).
        let input = torch.randn([| batch; channels; size; size |]).requires_grad_(true)
        let model = Model.build [ int channels; int size; int size ] (Layers.Net.Conv2d(outputs, kernel, padding = padding))
        model.Train()
        let weight = model.Parameters |> Seq.find (fun p -> p.Path.EndsWith "weight")
        let bias = model.Parameters |> Seq.find (fun p -> p.Path.EndsWith "bias")
        let upstream = torch.randn(model.Forward(input).shape)
        let run (forward: unit -> torch.Tensor) () =
            use _ = torch.NewDisposeScope()
            torch.autograd.backward([| forward () |], [| upstream |])
        let a, b =
            alternate rounds (if batch > 32L then 100 else 10) (run (fun () -> model.Forward input))
                (run (fun () -> torch.nn.functional.conv2d(input, weight.Value, bias.Value, padding = [| padding; padding |])))
        report name what a b
    do
        // LeNet's second ReLU and pool (after the 6 -> 16 convolution), the ReLU taken into the pool.
        let input = torch.randn([| 64L; 16L; 10L; 10L |]).requires_grad_(true)
        let _, ours, theirs = forwardBackward (relu --> maxPool 2) [ 16; 10; 10 ] input (fun x -> torch.nn.functional.max_pool2d(torch.nn.functional.relu x, 2L, 2L))
        let a, b = alternate rounds 200 ours theirs
        report "relu_pool2x2_16x10x10" "ReLU and 2x2 max pool of 64 x 16 x 10x10 as one operation, forward and backward" a b
    do
        let ours, theirs, belowNormal = adamWithSubnormalMoments 61706L 0.2f
        let a, b = alternate rounds 10 ours theirs
        report "adam_61706_subnormal" $"Adam step, 61,706 weights, {100. * float (belowNormal ()):F0} %% of first moments below normal range" a b
    do
        // ResNet-18's 11.2 M weights as one flat buffer, every gradient live: the passes bound by memory.
        let ours, theirs, _ = adamWithSubnormalMoments 11_200_000L 0.0f
        let a, b = alternate rounds 2 ours theirs
        report "adam_11200000" "Adam step, 11.2 M weights (ResNet-18's), all gradients live" a b
    {| kernels = results; rounds = rounds; threads = torch.get_num_threads (); cpu = cpu () |}
