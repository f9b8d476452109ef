/// `./nv bench [training|data|distributed|profile] [--json FILE] [--rounds N]`: NeuralVision (A) against plain TorchSharp (B), alternating
/// runs in one process, medians compared as ratios (the machine is noisy: only ratios in one run mean much).
module NeuralVision.Bench.Program

open System
open System.IO
open System.Text.Json
open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Training
open NeuralVision.Bench.Measure

let lenet =
    Layers.Net.Conv2d(6L, 5L, padding = 2L) --> relu --> maxPool 2
    --> conv2d 16 5 --> relu --> maxPool 2
    --> flatten --> linear 120 --> relu --> linear 84 --> relu --> linear 10

/// Images per second the loader delivers over `epochs` epochs (the batches are freed at once).
let loaderImagesPerSecond (loader: Loader) (epochs: int) =
    let clock = Diagnostics.Stopwatch.StartNew()
    let mutable images = 0L
    for epoch in 1 .. epochs do
        for batch in loader.Epoch epoch do
            images <- images + batch.Count
            batch.Inputs.Dispose()
            batch.Targets.Dispose()
    float images / clock.Elapsed.TotalSeconds

/// Images per second of NeuralVision's Predict (evaluation mode) over `x` in batches of 1,000.
let predictImagesPerSecond (model: Layers.Model) (x: torch.Tensor) =
    let count = x.shape.[0]
    let clock = Diagnostics.Stopwatch.StartNew()
    for start in 0L .. 1000L .. count - 1L do
        use scope = torch.NewDisposeScope()
        model.Predict(x.narrow(0L, start, min 1000L (count - start))) |> ignore
    float count / clock.Elapsed.TotalSeconds

[<EntryPoint>]
let main argv =
    let args = List.ofArray argv
    let rec option name = function
        | n :: v :: _ when n = name -> Some v
        | _ :: rest -> option name rest
        | [] -> None
    let rounds = option "--rounds" args |> Option.map int |> Option.defaultValue 5
    let json = option "--json" args
    let write (results: obj) =
        match json with
        | Some path ->
            File.WriteAllText(path, JsonSerializer.Serialize(results, JsonSerializerOptions(WriteIndented = true)))
            printfn "json: %s" path
        | None -> ()
    match option "--distributed-rank" args with
    | Some out -> Distributed.rankMain lenet out; exit 0
    | None -> ()
    if List.contains "--distributed" args then
        write (Distributed.run (option "--rounds" args |> Option.map int |> Option.defaultValue 3))
        exit 0
    if List.contains "--resnet18-inference" args then
        // One part of the full run, for working on it: ResNet-18 inference against ONNX Runtime.
        let ours, ort, difference, engine = ResNet.inference rounds
        printfn "ResNet-18 inference: NeuralVision %.1f img/s, ONNX Runtime %.1f img/s, ratio %.3f (outputs within %.1e; %s)" ours ort (ours / ort) difference engine
        exit 0
    if List.contains "--kernels" args then
        write (Kernels.run rounds)
        exit 0
    if List.contains "--profile" args then
        let passes = option "--rounds" args |> Option.map int |> Option.defaultValue 5
        let inferenceModel, images = ResNet.inferenceSetup ()
        let inferenceModel = inferenceModel.ForInference()
        printfn "ResNet-18 inference runs on %s" inferenceModel.InferenceEngine
        let inference =
            if inferenceModel.InferenceEngine.StartsWith "oneDNN" then Profile.predictionSteps inferenceModel passes images
            else Profile.layers inferenceModel passes (fun () -> (use _ = torch.NewDisposeScope() in inferenceModel.Predict images |> ignore))
        let trainingModel, step = ResNet.training ()
        let training = Profile.layers trainingModel passes step
        let lenetModel = Model.build [ 1; 28; 28 ] lenet
        let lenetInputs, lenetTargets = torch.rand(64L, 1L, 28L, 28L), torch.randint(10L, [| 64L |])
        let lenetBatch () = new Batch(lenetInputs, lenetTargets)
        let lenetStep =
            // Through autograd: the profile times layers by their modules' hooks, which LeNet's written-out backward
            // pass (the default for a plain pipeline, ManualBackward) does not call.
            let state = ref ((Train.start (adam 1e-3) crossEntropy lenetModel).WithAutograd())
            fun () -> state.Value <- Train.step state.Value (lenetBatch ())
        let lenetTraining = Profile.layers lenetModel (passes * 20) lenetStep
        // The same step as training runs it: the backward pass written out, each stage timed by the step.
        let lenetWrittenOut = Profile.writtenOut (Train.start (adam 1e-3) crossEntropy (Model.build [ 1; 28; 28 ] lenet)) (passes * 200) lenetBatch
        let lenetImages = torch.rand(1000L, 1L, 28L, 28L)
        let lenetInference = Profile.layers lenetModel (passes * 4) (fun () -> (use _ = torch.NewDisposeScope() in lenetModel.Predict lenetImages |> ignore))
        let lenetServed = lenetModel.ForInference()
        let lenetServedInference =
            if lenetServed.InferenceEngine.StartsWith "oneDNN" then Some (Profile.predictionSteps lenetServed (passes * 4) (lenetImages.narrow(0L, 0L, 512L))) else None
        write {| resnet18_inference_16x3x224x224 = Profile.report "ResNet-18 inference, batch 16, 3x224x224" inference
                 resnet18_training_32x3x64x64 = Profile.report "ResNet-18 training step, batch 32, 3x64x64, Adam" training
                 lenet_training_64x1x28x28 = Profile.report "LeNet training step through autograd, batch 64, Adam" lenetTraining
                 lenet_training_written_out_64x1x28x28 = Profile.report "LeNet training step written out (as it trains), batch 64, Adam" lenetWrittenOut
                 lenet_inference_1000x1x28x28 = Profile.report "LeNet inference, batch 1,000" lenetInference
                 lenet_served_inference_512x1x28x28 = lenetServedInference |> Option.map (Profile.report "LeNet inference rewritten by ForInference (oneDNN), one slice of 512") |> Option.toObj
                 passes = passes; threads = torch.get_num_threads (); cpu = cpu () |}
        exit 0
    Seed.set 0
    let data = FashionMnist.Load()
    let train = data.Train.ToData()
    let test = data.Test.ToData()
    let n = float data.Train.Count
    match option "--peak" args with
    | Some which ->
        // A child process running one implementation alone (a warm-up epoch, an epoch, inference), so its
        // peak resident memory is its own.
        match which with
        | "A" ->
            let model = Model.build [ 1; 28; 28 ] lenet
            let loader = batches 64 train
            let mutable state = Train.start (adam 1e-3) crossEntropy model
            for epoch in 1 .. 2 do state <- Train.Epoch(state, loader.Epoch epoch)
            predictImagesPerSecond model test.Inputs |> ignore
        | "B" ->
            let model = PlainTorchSharp.lenet ()
            let optimizer = torch.optim.Adam(model.parameters(), 1e-3)
            for _ in 1 .. 2 do PlainTorchSharp.trainEpoch model optimizer train.Inputs train.Targets 64L |> ignore
            PlainTorchSharp.inference model test.Inputs 1000L |> ignore
        | other -> eprintfn "--peak takes A or B, not %s" other; exit 2
        printfn "%.1f %.1f" (peakRssMiB ()) (fileHugePagesMiB ())
        exit 0
    | None -> ()
    if List.contains "--data" args then
        // The loader alone: images per second delivered to the step, against the step's own throughput.
        let deliver loader = loaderImagesPerSecond loader rounds
        let plain = deliver (batches 64 train)
        let prefetched = deliver ((batches 64 train).WithPrefetch 2)
        let augmented = deliver ((batches 64 train).WithAugmentation(Augmenter.Of(AugmentTargets.Labels, RandomCrop 2, HorizontalFlip())))
        let model = Model.build [ 1; 28; 28 ] lenet
        let state = Train.start (adam 1e-3) crossEntropy model
        Train.Epoch(state, (batches 64 train).Epoch 1) |> ignore // warm-up
        let trainSeconds = seconds (fun () -> Train.Epoch(state, (batches 64 train).Epoch 2) |> ignore)
        let training = n / trainSeconds
        printfn "%-44s %12.0f" "loader, shuffled batches of 64 (images/s)" plain
        printfn "%-44s %12.0f" "loader with background prefetch (images/s)" prefetched
        printfn "%-44s %12.0f" "loader with crop + flip augmentation (images/s)" augmented
        printfn "%-44s %12.0f" "LeNet training step (images/s)" training
        printfn "%-44s %12.1f" "loader / training" (plain / training)
        write {| loader_images_per_s = plain; prefetch_images_per_s = prefetched; augmented_images_per_s = augmented
                 training_images_per_s = training; loader_vs_training = plain / training; rounds = rounds |}
        exit 0
    printfn "LeNet (ReLU, max-pool) on Fashion-MNIST, batch 64, Adam 1e-3; %d rounds, A and B alternating; %d threads" rounds (torch.get_num_threads ())
    let steal0, ticks0 = cpuTicks ()

    // Memory first, before anything else has run: 20 epochs of A on a fresh model, RSS after epoch 20 against after epoch 1.
    let memoryModel = Model.build [ 1; 28; 28 ] lenet
    let memoryState = ref (Train.start (adam 1e-3) crossEntropy memoryModel)
    let memoryLoader = batches 64 train
    let rssAt = Collections.Generic.List<float>()
    for _ in 1 .. 20 do
        memoryState.Value <- Train.Epoch(memoryState.Value, memoryLoader.Epoch(memoryState.Value.Epoch + 1))
        // Aggressive: the GC also gives its free pages back, so RSS shows what is live (the tensors are native).
        GC.Collect(2, GCCollectionMode.Aggressive, true, true)
        GC.WaitForPendingFinalizers()
        rssAt.Add(rssMiB ())
    let rssAfterFirst, rssAfterAll = rssAt.[0], rssAt.[19]
    printfn "RSS after epoch 1: %.0f MiB, after epoch 20: %.0f MiB" rssAfterFirst rssAfterAll
    // A: NeuralVision's fold; B: the plain loop. Fresh models each round; epoch 1 of each is a warm-up.
    let modelA = Model.build [ 1; 28; 28 ] lenet
    let stateA = ref (Train.start (adam 1e-3) crossEntropy modelA)
    let loaderA = batches 64 train
    let stepTimesA = Collections.Generic.List<float>()
    let timer =
        let clock = Diagnostics.Stopwatch()
        { new ITrainingObserver with
            member _.EpochStarted(_, _) = clock.Restart()
            member _.StepFinished _ = stepTimesA.Add clock.Elapsed.TotalSeconds; clock.Restart()
            member _.EpochFinished _ = () }
    let epochA () = stateA.Value <- Train.Epoch(stateA.Value, loaderA.Epoch(stateA.Value.Epoch + 1), timer)
    let modelB = PlainTorchSharp.lenet ()
    let optimizerB = torch.optim.Adam(modelB.parameters(), 1e-3)
    let stepTimesB = Collections.Generic.List<float>()
    let epochB () = stepTimesB.AddRange(PlainTorchSharp.trainEpoch modelB optimizerB train.Inputs train.Targets 64L)
    let root = match Environment.GetEnvironmentVariable "NV_ROOT" with null | "" -> Directory.GetCurrentDirectory() | r -> r
    let pytorch = PyTorch.prepare root
    let dataDir = Provisioning.Ensure FashionMnist.Spec
    match pytorch with
    | Ok env -> printfn "C: Debian's PyTorch%s" (if env.IsEmpty then " with the reference BLAS (OpenBLAS could not be unpacked)" else " with OpenBLAS (OpenMP)")
    | Error why -> printfn "C: missing (%s)" why
    epochA (); epochB () // warm-up
    stepTimesA.Clear(); stepTimesB.Clear()
    // The matrix-multiply peak is measured right after A's epoch in every round: the machine's speed drifts by up to
    // 1.7× between minutes (one peak measured at the end of a run read 187 GFLOP/s, another 310), and LeNet's share
    // of the peak is a ratio of two speeds, so both are taken side by side.
    let peaks = Collections.Generic.List<float>()
    let rounds' =
        [ for r in 1 .. rounds ->
              let a = seconds epochA
              peaks.Add(Flops.matmulPeakGflops ())
              let b = seconds epochB
              let c = match pytorch with Ok env -> PyTorch.measure root env dataDir (torch.get_num_threads ()) | Error _ -> None
              let cImages = c |> Option.map (fun j -> j.GetProperty("images_per_s").GetDouble())
              printfn "  round %d: A %.2f s (%.0f img/s)   B %.2f s (%.0f img/s)%s" r a (n / a) b (n / b)
                  (match cImages with Some i -> $"   C {n / i:F2} s ({i:F0} img/s)" | None -> "")
              a, b, c ]
    let timesA = rounds' |> List.map (fun (a, _, _) -> a)
    let timesB = rounds' |> List.map (fun (_, b, _) -> b)
    let cRuns = rounds' |> List.choose (fun (_, _, c) -> c)
    let imagesA, imagesB = n / median timesA, n / median timesB
    let imagesC = if cRuns.IsEmpty then None else Some (median [ for c in cRuns -> c.GetProperty("images_per_s").GetDouble() ])
    let inferenceC = if cRuns.IsEmpty then None else Some (median [ for c in cRuns -> c.GetProperty("inference_images_per_s").GetDouble() ])
    let coldInferenceC = if cRuns.IsEmpty then None else Some (median [ for c in cRuns -> c.GetProperty("cold_inference_images_per_s").GetDouble() ])
    let mlpC = if cRuns.IsEmpty then None else Some (median [ for c in cRuns -> c.GetProperty("mlp_step_ms").GetDouble() ]) 

    // Tiny MLP step overhead: 1→50→50→1, full batch 1,000, Adam.
    let x = torch.linspace(-10.0, 5.0, 1000L).unsqueeze(1L)
    let y = x.sin()
    let mlpA = Model.build [ 1 ] (linear 50 --> sigmoid --> linear 50 --> sigmoid --> linear 1)
    let mlpStateA = ref (Train.start (adam 1e-3) mse mlpA)
    let batch = new Batch(x, y)
    let mlpStepsA steps =
        let clock = Diagnostics.Stopwatch.StartNew()
        for _ in 1 .. steps do mlpStateA.Value <- Train.step mlpStateA.Value batch
        clock.Elapsed.TotalSeconds / float steps
    let mlpB = PlainTorchSharp.mlp ()
    let mlpOptimizerB = torch.optim.Adam(mlpB.parameters(), 1e-3)
    mlpStepsA 200 |> ignore; PlainTorchSharp.mlpSteps mlpB mlpOptimizerB x y 200 |> ignore
    let mlpTimes = [ for _ in 1 .. rounds -> mlpStepsA 2000, PlainTorchSharp.mlpSteps mlpB mlpOptimizerB x y 2000 ]
    let mlpA', mlpB' = median (List.map fst mlpTimes), median (List.map snd mlpTimes)

    // The loader alone: shuffled batches of 64 delivered per second.
    let loaderImages = loaderImagesPerSecond (batches 64 train) 1

    // Peak resident memory of A and B, each alone in a child process; C's from its own run.
    let peakOf which =
        let info = Diagnostics.ProcessStartInfo(Environment.ProcessPath, RedirectStandardOutput = true, UseShellExecute = false)
        info.ArgumentList.Add(Reflection.Assembly.GetEntryAssembly().Location)
        info.ArgumentList.Add "--peak"
        info.ArgumentList.Add which
        use child = Diagnostics.Process.Start info
        let out = child.StandardOutput.ReadToEnd()
        child.WaitForExit()
        // Its last line: the peak and, of the memory resident at the end, the libraries' pages mapped 2 MiB at a time.
        let number (text: string) =
            match Double.TryParse(text, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
            | true, v -> Some v
            | _ when text = "nan" -> Some nan
            | _ -> None
        match (out.Trim().Split('\n') |> Array.last).Split(' ') |> Array.map number with
        | [| Some peak; Some hugePages |] when child.ExitCode = 0 -> Nullable peak, (if Double.IsNaN hugePages then Nullable() else Nullable hugePages)
        | _ -> eprintfn "peak RSS of %s: the child process failed (exit %d)" which child.ExitCode; Nullable(), Nullable()
    let (peakA, hugePagesA), (peakB, hugePagesB) = peakOf "A", peakOf "B"
    let peakC = if cRuns.IsEmpty then Nullable() else Nullable(median [ for c in cRuns -> c.GetProperty("peak_rss_mib").GetDouble() ])
    let hugePagesC =
        match [ for c in cRuns do match c.TryGetProperty "file_huge_pages_mib" with
                                  | true, v when v.ValueKind = Text.Json.JsonValueKind.Number -> v.GetDouble()
                                  | _ -> () ] with
        | [] -> Nullable()
        | values -> Nullable(median values)

    // Inference, eval mode, batch 1,000: one unmeasured pass each, then at least 5 alternating passes. A's model as
    // trained (libtorch) and as a user serves it, rewritten by ForInference (oneDNN plans where the machine has oneDNN).
    let servedA = modelA.ForInference()
    predictImagesPerSecond modelA test.Inputs |> ignore
    predictImagesPerSecond servedA test.Inputs |> ignore
    PlainTorchSharp.inference modelB test.Inputs 1000L |> ignore
    let inference = [ for _ in 1 .. max rounds 5 -> predictImagesPerSecond modelA test.Inputs, PlainTorchSharp.inference modelB test.Inputs 1000L, predictImagesPerSecond servedA test.Inputs ]
    let inferenceA, inferenceB = median [ for a, _, _ in inference -> a ], median [ for _, b, _ in inference -> b ]
    let servedInferenceA = median [ for _, _, s in inference -> s ]

    // ResNet-18: training (3x64x64, batch 32, Adam) against PyTorch, alternating; inference (224x224, batch 16) against ONNX Runtime.
    let resnetRounds =
        [ for r in 1 .. rounds ->
              let a = ResNet.trainImagesPerSecond ()
              let c = match pytorch with Ok env -> ResNet.pytorchTrainImagesPerSecond root env | Error _ -> None
              printfn "  ResNet-18 training round %d: A %.1f img/s%s" r a (match c with Some v -> $"   C {v:F1} img/s" | None -> "")
              a, c ]
    let resnetA = median (List.map fst resnetRounds)
    let resnetC = match List.choose snd resnetRounds with [] -> None | cs -> Some (median cs)
    let resnetInferA, resnetInferOrt, resnetDifference, resnetEngine = ResNet.inference rounds
    printfn "  ResNet-18 inference: A %.1f img/s, ONNX Runtime %.1f img/s (outputs within %.1e; %s)" resnetInferA resnetInferOrt resnetDifference resnetEngine

    // LeNet training against the FLOP bound: its convolutions' and linear layers' FLOPs per image at its measured
    // images per second, over the machine's measured matrix-multiply speed.
    let lenetFlopsPerImage = Flops.trainingFlopsPerSample lenet (Layers.Shape(1L, 28L, 28L))
    let matmulGflops = median (List.ofSeq peaks)
    let lenetGflops = imagesA * lenetFlopsPerImage / 1e9
    let roundFractions = List.map2 (fun a peak -> n / a * lenetFlopsPerImage / 1e9 / peak) timesA (List.ofSeq peaks)

    let percentiles (times: Collections.Generic.List<float>) =
        let ms = times |> Seq.map (fun t -> t * 1000.) |> Array.ofSeq
        {| p50 = percentile 50. ms; p90 = percentile 90. ms; p99 = percentile 99. ms |}
    let ratio (a: float) (b: float option) = match b with Some v -> Nullable(a / v) | None -> Nullable()
    let steal1, ticks1 = cpuTicks ()
    let optionalSpread values = match values with [] -> Nullable() | vs -> Nullable(spread vs)
    let results =
        {| lenet_train_vs_torchsharp = imagesA / imagesB
           lenet_train_vs_pytorch = ratio imagesA imagesC
           mlp_step_vs_torchsharp = mlpA' / mlpB'
           mlp_step_vs_pytorch = ratio (mlpA' * 1000.) mlpC
           inference_vs_torchsharp = inferenceA / inferenceB
           inference_vs_pytorch = ratio inferenceA inferenceC
           served_inference_vs_pytorch = ratio servedInferenceA inferenceC
           rss_growth_20_epochs = rssAfterAll / rssAfterFirst
           pytorch = (match pytorch with Ok env -> (if env.IsEmpty then "python3-torch, reference BLAS" else "python3-torch, OpenBLAS (OpenMP)") | Error why -> $"missing: {why}")
           lenet = {| neuralvision_images_per_s = imagesA; torchsharp_images_per_s = imagesB; pytorch_images_per_s = Option.toNullable imagesC
                      neuralvision_step_ms = percentiles stepTimesA; torchsharp_step_ms = percentiles stepTimesB
                      pytorch_step_ms =
                        if cRuns.IsEmpty then None
                        else Some (percentiles (Collections.Generic.List [ for c in cRuns do for t in c.GetProperty("step_ms").EnumerateArray() -> t.GetDouble() / 1000. ]))
                      rounds = rounds; batch = 64 |}
           mlp = {| neuralvision_step_ms = mlpA' * 1000.; torchsharp_step_ms = mlpB' * 1000.; pytorch_step_ms = Option.toNullable mlpC; steps = 2000 |}
           inference = {| neuralvision_images_per_s = inferenceA; torchsharp_images_per_s = inferenceB; pytorch_images_per_s = Option.toNullable inferenceC
                          neuralvision_served_images_per_s = servedInferenceA; served_engine = servedA.InferenceEngine
                          pytorch_first_pass_images_per_s = Option.toNullable coldInferenceC; batch = 1000 |}
           rss_mib = {| after_epoch_1 = rssAfterFirst; after_epoch_20 = rssAfterAll
                        peak_neuralvision = peakA; peak_torchsharp = peakB; peak_pytorch = peakC
                        // Of each side's resident memory at its end, library pages mapped 2 MiB at a time (see fileHugePagesMiB).
                        file_huge_pages_neuralvision = hugePagesA; file_huge_pages_torchsharp = hugePagesB; file_huge_pages_pytorch = hugePagesC |}
           resnet18_train_vs_pytorch = ratio resnetA resnetC
           resnet18_infer_vs_onnxruntime = resnetInferA / resnetInferOrt
           resnet18 = {| train_images_per_s = resnetA; pytorch_train_images_per_s = Option.toNullable resnetC; train_batch = 32; train_input = "3x64x64"
                         infer_images_per_s = resnetInferA; onnxruntime_infer_images_per_s = resnetInferOrt; infer_batch = 16; infer_input = "3x224x224"
                         largest_output_difference = resnetDifference; infer_engine = resnetEngine |}
           lenet_flop_bound_fraction = median roundFractions
           flop_bound = {| lenet_training_flops_per_image = lenetFlopsPerImage; lenet_training_gflops = lenetGflops; matmul_peak_gflops = matmulGflops
                           round_fractions = roundFractions; round_matmul_peaks_gflops = List.ofSeq peaks |}
           cpu = cpu ()
           // How steady the machine was: the share of CPU time the hypervisor took, and each side's rounds.
           steadiness = {| cpu_steal_fraction = (if ticks1 > ticks0 then float (steal1 - steal0) / float (ticks1 - ticks0) else 0.)
                           lenet_round_spread = {| neuralvision = spread timesA; torchsharp = spread timesB
                                                   pytorch = optionalSpread [ for c in cRuns -> c.GetProperty("images_per_s").GetDouble() ] |}
                           resnet18_train_round_spread = {| neuralvision = spread (List.map fst resnetRounds); pytorch = optionalSpread (List.choose snd resnetRounds) |} |}
           loader_images_per_s = loaderImages
           threads = torch.get_num_threads () |}
    let show (v: Nullable<float>) format = if v.HasValue then String.Format(format, v.Value) else "missing"
    printfn ""
    printfn "%-34s %12s %12s %12s %8s %8s" "" "NeuralVision" "TorchSharp" "PyTorch" "A/B" "A/C"
    printfn "%-34s %12.0f %12.0f %12s %8.3f %8s" "LeNet training (images/s)" imagesA imagesB (show (Option.toNullable imagesC) "{0:F0}") results.lenet_train_vs_torchsharp (show results.lenet_train_vs_pytorch "{0:F3}")
    printfn "%-34s %12.3f %12.3f %12s %8.3f %8s" "tiny-MLP Adam step (ms)" (mlpA' * 1000.) (mlpB' * 1000.) (show (Option.toNullable mlpC) "{0:F3}") results.mlp_step_vs_torchsharp (show results.mlp_step_vs_pytorch "{0:F3}")
    printfn "%-34s %12.0f %12.0f %12s %8.3f %8s" "inference, batch 1,000 (images/s)" inferenceA inferenceB (show (Option.toNullable inferenceC) "{0:F0}") results.inference_vs_torchsharp (show results.inference_vs_pytorch "{0:F3}")
    printfn "%-34s %12.0f %12s %12s %8s %8s" "  the same, ForInference (images/s)" servedInferenceA "" "" "" (show results.served_inference_vs_pytorch "{0:F3}")
    printfn "%-34s %12s %12s %12s" "peak RSS, each alone (MiB)" (show peakA "{0:F0}") (show peakB "{0:F0}") (show peakC "{0:F0}")
    printfn "%-34s %12s %12s %12s" "  libraries in 2 MiB pages at the end" (show hugePagesA "{0:F0}") (show hugePagesB "{0:F0}") (show hugePagesC "{0:F0}")
    printfn "%-34s %12.0f %12.0f  (growth %.3f)" "RSS after epoch 1 / 20 (MiB)" rssAfterFirst rssAfterAll results.rss_growth_20_epochs
    printfn "%-34s %12.0f" "loader, batches of 64 (images/s)" loaderImages
    printfn "%-34s %12.1f %12s %12s %8s %8s" "ResNet-18 training (images/s)" resnetA "" (show (Option.toNullable resnetC) "{0:F1}") "" (show results.resnet18_train_vs_pytorch "{0:F3}")
    printfn "%-34s %12.1f %12s %12.1f %8s %8.3f  (C: ONNX Runtime)" "ResNet-18 inference (images/s)" resnetInferA "" resnetInferOrt "" results.resnet18_infer_vs_onnxruntime
    printfn "%-34s %12.1f  (%.2f MFLOP per image; matmul peak %.1f GFLOP/s; fraction %.3f, the median of each round's A over the peak measured beside it)" "LeNet training (GFLOP/s)" lenetGflops (lenetFlopsPerImage / 1e6) matmulGflops results.lenet_flop_bound_fraction
    printfn "%-34s %s (%s)" "CPU" results.cpu.model (String.Join(" ", results.cpu.vector_extensions))
    let st = results.steadiness
    printfn "%-34s %.1f %% of CPU time taken by the host; slowest/fastest round: LeNet A %.2f B %.2f C %s, ResNet-18 training A %.2f C %s" "steadiness"
        (100. * st.cpu_steal_fraction) st.lenet_round_spread.neuralvision st.lenet_round_spread.torchsharp (show st.lenet_round_spread.pytorch "{0:F2}")
        st.resnet18_train_round_spread.neuralvision (show st.resnet18_train_round_spread.pytorch "{0:F2}")
    write results
    0
