module NeuralVision.Tests.TrainingTests

open System
open System.IO
open Expecto
open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Training

/// The course's regression data: y = 2^x·sin(2^−x) on linspace(−10, 5, 100), noise/20 on the targets.
let private regressionData () =
    let x = torch.linspace(-10.0, 5.0, 100L).unsqueeze(1L)
    let truth = torch.pow(torch.tensor 2.0f, x).mul(torch.sin(torch.pow(torch.tensor 2.0f, x.neg())))
    x, truth.add(torch.randn_like(truth).div(torch.tensor 20.0f))

let private regressionNet = linear 30 --> sigmoid --> linear 30 --> sigmoid --> linear 1

let foldTests =
    testList "the fold equals a hand-written TorchSharp loop" [
        test "regression y = 2^x·sin(2^-x): same seed, same data, same losses (2,000 full-batch Adam steps)" {
            // The library: the fold over a full-batch loader.
            Seed.set 0
            let x, y = regressionData ()
            let model = Model.build [ 1 ] regressionNet
            let ours =
                Train.start (adam 0.01) mse model
                |> Train.run Train.quiet (batchesInOrder 100 (TensorData(x, y)))
                |> Seq.truncate 2000
                |> Seq.map _.TrainLoss
                |> Array.ofSeq
            // The same by hand: TorchSharp modules created in the same order, the same loop.
            Seed.set 0
            let x2, y2 = regressionData ()
            let l1, l2, l3 = torch.nn.Linear(1L, 30L), torch.nn.Linear(30L, 30L), torch.nn.Linear(30L, 1L)
            let parameters = [ yield! l1.parameters(); yield! l2.parameters(); yield! l3.parameters() ]
            let optimizer = torch.optim.Adam(parameters, 0.01)
            let reference =
                Array.init 2000 (fun _ ->
                    use scope = torch.NewDisposeScope()
                    optimizer.zero_grad()
                    let prediction = l3.forward(l2.forward(l1.forward(x2).sigmoid()).sigmoid())
                    let loss = torch.nn.functional.mse_loss(prediction, y2)
                    loss.backward()
                    optimizer.step() |> ignore
                    loss.item<float32>() |> float)
            let worst = Array.map2 (fun a b -> abs (a - b)) ours reference |> Array.max
            Expect.isLessThanOrEqual worst 1e-6 $"max |loss difference| over 2,000 steps: {worst}"
            Expect.isLessThan ours.[1999] (ours.[0] / 10.) $"it learned: {ours.[0]} → {ours.[1999]}"
        }
    ]

/// The course's wine notebook (fixtures/wine-course-run.json, made by fixtures/make_wine_course_run.py
/// with PyTorch): NumPy's draws for the split and the batch order, torch's seed for the weights.
let courseReplayTests =
    testList "the course's PyTorch notebook, replayed" [
        test "NumPy's RandomState: the raw stream and permutation, number for number" {
            let numpy = NeuralVision.Tensors.NumPyRandomState 0u
            Expect.equal [ for _ in 1 .. 3 -> numpy.NextUInt32() ] [ 2357136044u; 2546248239u; 3071714933u ] "np.random.RandomState(0).randint(0, 2**32, 3)"
            Expect.equal (NeuralVision.Tensors.NumPyRandomState(42u).Permutation 10) [| 8L; 1L; 5L; 0L; 7L; 2L; 9L; 4L; 3L; 6L |] "RandomState(42).permutation(10)"
            Expect.equal (NeuralVision.Tensors.NumPyRandomState(UInt32.MaxValue).Permutation 7) [| 1L; 5L; 0L; 6L; 4L; 2L; 3L |] "RandomState(2**32-1).permutation(7)"
        }
        test "a replayed order that is not a permutation is refused, naming what is wrong" {
            let data = TensorData(torch.zeros(4L, 2L), torch.zeros(4L, dtype = torch.int64))
            for order in [ [| 0L; 1L; 2L |]; [| 0L; 1L; 1L; 3L |]; [| 0L; 1L; 2L; 4L |] ] do
                let loader = (batchesInOrder 2 data).WithOrder(fun _ -> order)
                let e = Expect.throwsC (fun () -> loader.Epoch 1 |> Seq.iter ignore) id
                Expect.isTrue (e :? ArgumentException) $"an ArgumentException for {order}, got {e.GetType().Name}"
                Expect.stringContains e.Message "not a permutation of the 4 samples" "says what is wrong"
                Expect.stringContains e.Message "give each of 0..3 once" "and what to do"
        }
        test "wine from 2 features, 5,000 epochs: the same split, losses and test accuracies as PyTorch" {
            let file = Path.Combine(Repo.root.Value, "tests", "NeuralVision.Tests", "fixtures", "wine-course-run.json")
            use json = Text.Json.JsonDocument.Parse(File.ReadAllText file)
            let testRows = [ for r in json.RootElement.GetProperty("test_rows").EnumerateArray() -> r.GetInt64() ]
            let checkpoints =
                [ for c in json.RootElement.GetProperty("checkpoints").EnumerateArray() ->
                    c.GetProperty("epoch").GetInt32(), c.GetProperty("train_loss").GetDouble(), c.GetProperty("test_accuracy").GetDouble() ]
            Seed.set 0
            let numpy = NeuralVision.Tensors.NumPyRandomState 0u
            let data = Sklearn.Wine().Select("alcohol", "malic_acid").ToData()
            let struct (train, test) = data.SplitLikeScikitLearn(0.3, numpy)
            // The split's rows, found by value: the wine table has no duplicate rows.
            let expectedTest = data.Subset(Array.ofList testRows)
            Expect.isTrue (test.Inputs.eq(expectedTest.Inputs).all().item<bool>()) "the test rows are scikit-learn's"
            let model = Model.build [ 2 ] (linear 5 --> sigmoid --> linear 5 --> sigmoid --> linear 3)
            let ours =
                Train.start (adam 1e-3) crossEntropy model
                |> Train.run Train.quiet ((batches 10 train).WithOrder(numpy.PermutationPerEpoch(int train.Count)))
                |> Seq.truncate 5000
                |> Seq.filter (fun r -> checkpoints |> List.exists (fun (e, _, _) -> e = r.Epoch))
                |> Seq.map (fun r -> r.Epoch, r.TrainLoss, (Eval.on test Metric.accuracy r).["accuracy"])
                |> List.ofSeq
            for (epoch, loss, accuracy), (_, torchLoss, torchAccuracy) in List.zip ours checkpoints do
                // float32 sums in a different order drift a little over 65,000 steps; 1e-4 is far below a changed step.
                Expect.isLessThanOrEqual (abs (loss - torchLoss) / torchLoss) 1e-4 $"epoch {epoch}: loss {loss} against PyTorch's {torchLoss}"
                // PyTorch's accuracy is a float32 mean; compare the number of test wines classified right.
                let right (a: float) = int (Math.Round(a * float test.Count))
                Expect.equal (right accuracy) (right torchAccuracy) $"epoch {epoch}: test wines right (accuracy {accuracy} against {torchAccuracy})"
            let _, _, final = List.last ours
            Expect.isGreaterThanOrEqual final 0.87 "the course's figure (0.87–0.91)"
        }
    ]

/// malloc's bytes in use (glibc's mallinfo2, through NativeAllocator).
let private inUse () = Native.NativeAllocator.BytesInUse() |> Option.ofNullable |> Option.defaultWith (fun () -> failwith "this test needs glibc's mallinfo2")

/// Live libtorch tensors and native memory in use (malloc's, in KiB) after `steps` training steps of `step`.
/// Native memory is malloc's own count, not the resident set: RSS also holds the pages of the managed heap's
/// allocation budget, which a test run alone first fills during the measured steps (+36–40 MiB on a 2-core Xeon,
/// none with DOTNET_GCgen0size=0x400000), and what the allocator keeps for reuse. The warm-up is long enough for
/// the runtime's own one-time native allocations (JIT): after 100 steps, +8–9 MiB still came during the measure.
/// Programs here run without tiered compilation (Directory.Build.targets), whose background re-compiling moved this
/// count by 1–2 MiB either way thousands of steps in; the methods compiled during the steps are reported with the growth.
let private growth (steps: int) (step: unit -> unit) =
    let compiled () = Runtime.JitInfo.GetCompiledMethodCount(false)
    for _ in 1 .. 1000 do step () // warm up allocator, caches and the JIT
    GC.Collect(); GC.WaitForPendingFinalizers()
    let tensors0, native0, compiled0 = torch.Tensor.TotalCount, inUse (), compiled ()
    for _ in 1 .. steps do step ()
    GC.Collect(); GC.WaitForPendingFinalizers()
    let nativeKiB = (inUse () - native0) / 1024L
    torch.Tensor.TotalCount - tensors0, nativeKiB, $"native memory in use grew by {nativeKiB} KiB ({compiled () - compiled0} methods JIT-compiled meanwhile)"

/// Native memory (KiB) that `steps` steps of `step` leave for the collector's finalizers to free: malloc's bytes in use
/// right after the steps, less after a full collection has run the finalizers. Measured over steps during which the
/// collector did not run (the training step starts young collections of its own, GarbageBound); the least of three such
/// measures, since other threads of the process (ICU building a collator, 2 MiB) may free memory meanwhile.
/// Such memory is freed hundreds of steps late, scattered between the step's freed activations: TorchSharp's `shape`
/// (a native delegate per read) and `add_(tensor)` (an undisposed Scalar) once grew LeNet's malloc heap by 90 MiB.
let private leftToFinalizers (steps: int) (step: unit -> unit) =
    for _ in 1 .. 100 do step () // warm up allocator, caches and the JIT
    let rec measure attempt =
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); GC.WaitForPendingFinalizers()
        let collections = GC.CollectionCount 0
        for _ in 1 .. steps do step ()
        let after = inUse ()
        if GC.CollectionCount 0 <> collections && attempt < 10 then measure (attempt + 1)
        else
            Expect.equal (GC.CollectionCount 0) collections "the collector ran during every attempt: fewer steps"
            GC.Collect(); GC.WaitForPendingFinalizers()
            (after - inUse ()) / 1024L
    List.init 3 (fun _ -> measure 1) |> List.min

let flatTests =
    testList "parameters in one buffer" [
        test "training with flat parameters is bit-identical to training without, for every optimiser" {
            let data = TensorData(torch.rand([| 256L; 1L; 12L; 12L |]), torch.randint(10L, [| 256L |]))
            let net = conv2d 4 3 --> relu --> maxPool 2 --> flatten --> linear 16 --> relu --> linear 10
            let train flatten (optimiser: Optimiser) =
                Seed.set 3
                let model = Model.build [ 1; 12; 12 ] net
                let state = Training.Train.Start(model, optimiser, crossEntropy, flatten = flatten)
                Training.Train.Run(state, Loader(data, 32, true, 5L)) |> Seq.truncate 2 |> Seq.last |> ignore
                [ for p in model.Parameters -> p.Value.detach().data<float32>().ToArray() ]
            for name, optimiser in [ "Adam", Optim.Adam(1e-2, WeightDecay = 1e-3) :> Optimiser; "SGD momentum", Optim.Sgd(0.05, Momentum = 0.9, Nesterov = true)
                                     "RMSprop", Optim.RmsProp(1e-3, Centered = true); "Adagrad", Optim.Adagrad(0.05); "Rprop", Optim.Rprop(0.01); "AdamW", Optim.AdamW(1e-2) ] do
                Expect.equal (train true optimiser) (train false optimiser) $"{name}: the same weights to the bit"
        }
    ]

let private weightsOf (model: Layers.Model) =
    [ for p in model.Parameters -> p.Value.detach().cpu().data<float32>().ToArray() ]

/// Whether a state's model trains on the written-out backward pass (TrainState.Manual, internal).
let private writtenOut (state: TrainState) =
    typeof<TrainState>.GetProperty("Manual", Reflection.BindingFlags.NonPublic ||| Reflection.BindingFlags.Instance).GetValue(state) |> isNull |> not

let manualBackwardTests =
    testList "the backward pass written out" [
        test "plain pipelines train to the bit as through autograd: losses, weights, frozen layers, oneDNN and DirectConvolution layers" {
            let cases =
                [ "LeNet (its first convolution DirectConvolution's, its second oneDNN's)", [ 1; 28; 28 ],
                  Layers.Net.Conv2d(6L, 5L, padding = 2L) --> relu --> maxPool 2 --> conv2d 16 5 --> relu --> maxPool 2
                  --> flatten --> linear 120 --> relu --> linear 84 --> relu --> linear 10
                  "convolutions without a ReLU after them, a ReLU after a pool, a linear layer without one", [ 3; 12; 12 ],
                  conv2d 8 3 --> maxPool 2 --> relu --> conv2d 16 3 --> flatten --> linear 20 --> linear 10
                  "a multilayer perceptron", [ 1; 8; 8 ], flatten --> linear 32 --> relu --> linear 32 --> relu --> linear 10
                  "a convolution pooled as it convolves, twelve channels of two", [ 2; 16; 20 ],
                  Layers.Net.Conv2d(12L, 3L, padding = 1L) --> relu --> maxPool 2 --> flatten --> linear 10
                  "a convolution that could pool as it convolves on an odd width: its stage and the pool's, composed", [ 1; 17; 21 ],
                  Layers.Net.Conv2d(6L, 5L, padding = 2L) --> relu --> maxPool 2 --> flatten --> linear 10 ]
            for name, shape, net in cases do
                let run autograd frozen =
                    Seed.set 5
                    let model = Model.build shape net
                    if frozen then model.FreezeInPlace "0" |> ignore
                    // A timer notes only the steps written out: every step of the run that is not through autograd.
                    let timer = LayerTimer()
                    let start = Train.start (adam 1e-2) crossEntropy model |> Train.withLayerTimer timer
                    Expect.equal (writtenOut start) true $"{name}: a plain pipeline"
                    let mutable state = if autograd then start.WithAutograd() else start
                    let losses =
                        [ for k in 1 .. 4 ->
                            Seed.set (100 + k)
                            let x = torch.rand([| yield 16L; for s in shape -> int64 s |])
                            let y = torch.randint(10L, [| 16L |])
                            state <- Train.step state (new Batch(x, y))
                            state.LastLoss ]
                    Expect.equal timer.Steps (if autograd then 0 else 4) $"{name}: every step written out, or none"
                    losses, weightsOf model
                for frozen in [ false; true ] do
                    let lossesA, weightsA = run false frozen
                    let lossesB, weightsB = run true frozen
                    Expect.equal lossesA lossesB $"{name} (first layer frozen: {frozen}): the same losses to the bit"
                    Expect.equal weightsA weightsB $"{name} (first layer frozen: {frozen}): the same weights to the bit"
        }
        test "a LayerTimer gets each stage of the written-out pass, forward and backward, and changes no number" {
            let net = Layers.Net.Conv2d(6L, 5L, padding = 2L) --> relu --> maxPool 2 --> conv2d 16 5 --> relu --> maxPool 2
                      --> flatten --> linear 120 --> relu --> linear 84 --> relu --> linear 10
            let run (timer: LayerTimer option) =
                Seed.set 7
                let model = Model.build [ 1; 28; 28 ] net
                let start = Train.start (adam 1e-3) crossEntropy model
                let mutable state = match timer with Some t -> start |> Train.withLayerTimer t | None -> start
                let clock = Diagnostics.Stopwatch.StartNew()
                for k in 1 .. 5 do
                    Seed.set (200 + k)
                    state <- Train.step state (new Batch(torch.rand([| 16L; 1L; 28L; 28L |]), torch.randint(10L, [| 16L |])))
                clock.Elapsed, weightsOf model, state
            let timer = LayerTimer()
            let elapsed, timedWeights, timedState = run (Some timer)
            let _, plainWeights, _ = run None
            Expect.equal timedWeights plainWeights "timed or not, the same weights to the bit"
            Expect.equal timer.Steps 5 "every step timed"
            let stages = List.ofSeq timer.Stages
            // With AVX-512, the first convolution pools as it convolves (DirectConvolution.ForwardPooled): one stage of three layers.
            let firstBlock =
                if Runtime.Intrinsics.X86.Avx512BW.VL.IsSupported then [ 0, 2, "Conv2d + ReLU + MaxPool2d" ]
                else [ 0, 1, "Conv2d + ReLU"; 2, 2, "MaxPool2d" ]
            Expect.equal [ for s in stages -> s.FirstLayer, s.LastLayer, s.Kind ]
                (firstBlock @ [ 3, 4, "Conv2d + ReLU"; 5, 5, "MaxPool2d"; 6, 6, "Flatten"
                                7, 8, "Linear + ReLU"; 9, 10, "Linear + ReLU"; 11, 11, "Linear" ]) "the stages, in the pipeline's order"
            for s in stages do
                Expect.isGreaterThan s.Forward TimeSpan.Zero $"{s.Kind} at {s.FirstLayer}: forward timed"
                Expect.isGreaterThan s.Backward TimeSpan.Zero $"{s.Kind} at {s.FirstLayer}: backward timed"
            let total = stages |> List.sumBy (fun s -> (s.Forward + s.Backward).Ticks)
            Expect.isLessThan total elapsed.Ticks "the stages' times fit inside the steps"
            Train.step (timedState.WithAutograd()) (new Batch(torch.rand([| 16L; 1L; 28L; 28L |]), torch.randint(10L, [| 16L |]))) |> ignore
            Expect.equal timer.Steps 5 "a step through autograd notes nothing"
            timer.Reset()
            Expect.equal (timer.Steps, timer.Stages |> Seq.sumBy (fun s -> (s.Forward + s.Backward).Ticks)) (0, 0L) "reset"
        }
        test "the written-out pass runs where it is used: the layers' forward hooks are not called, and are with autograd" {
            let model = Model.build [ 1; 12; 12 ] (conv2d 4 3 --> relu --> maxPool 2 --> flatten --> linear 10)
            let calls = ref 0
            let leaf = (Layers.TorchSharpEscape.Module model).named_modules() |> Seq.pick (fun struct (n, m) -> if n = "4" then Some (m :?> torch.nn.Module<torch.Tensor, torch.Tensor>) else None)
            let hook = leaf.register_forward_hook(fun _ _ output -> calls.Value <- calls.Value + 1; output)
            let batch () = new Batch(torch.rand([| 8L; 1L; 12L; 12L |]), torch.randint(10L, [| 8L |]))
            let state = Train.step (Train.start (adam 1e-3) crossEntropy model) (batch ())
            Expect.equal calls.Value 0 "written out: the linear module is not called"
            Train.step (state.WithAutograd()) (batch ()) |> ignore
            hook.remove ()
            Expect.equal calls.Value 1 "through autograd: it is"
        }
        test "models with other layers (BatchNorm, dropout, a residual block, a sigmoid) train through autograd" {
            for net in [ conv2d 4 3 --> batchNorm2d --> relu --> flatten --> linear 10
                         flatten --> dropout 0.5 --> linear 10
                         conv2d 4 3 --> residual (conv2dSame 4 3) --> flatten --> linear 10
                         flatten --> linear 8 --> sigmoid --> linear 10 ] do
                let state = Train.start (adam 1e-3) crossEntropy (Model.build [ 1; 8; 8 ] net)
                Expect.equal (writtenOut state) false $"{net.Describe()}: not written out"
        }
        test "a batch the kernels do not take (float64 for a float32 model) fails as it does through autograd" {
            let model = Model.build [ 1; 8; 8 ] (conv2d 4 3 --> relu --> flatten --> linear 10)
            let step autograd =
                let state = Train.start (adam 1e-3) crossEntropy model
                let state = if autograd then state.WithAutograd() else state
                try Train.step state (new Batch(torch.rand([| 4L; 1L; 8L; 8L |], dtype = torch.float64), torch.randint(10L, [| 4L |]))) |> ignore; "no error"
                with e -> e.GetType().Name
            Expect.equal (step false) (step true) "the same exception"
        }
    ]

/// A training state for `net` on 640 random 28×28 images, and a step that takes the next batch of 64 (epoch after epoch).
let private stepsOnRandomImages net =
    Seed.set 1
    let data = TensorData(torch.rand([| 640L; 1L; 28L; 28L |]), torch.randint(10L, [| 640L |]))
    let loader = batches 64 data
    let state = ref (Train.start (adam 1e-3) crossEntropy (Model.build [ 1; 28; 28 ] net))
    let start = state.Value
    let epoch = ref 0
    let batchesLeft = ref Seq.empty<Batch>
    let step () =
        if Seq.isEmpty batchesLeft.Value then
            epoch.Value <- epoch.Value + 1
            batchesLeft.Value <- loader.Epoch(epoch.Value) |> Seq.cache
        let batch = Seq.head batchesLeft.Value
        batchesLeft.Value <- Seq.tail batchesLeft.Value
        state.Value <- Train.step state.Value batch
    start, step

let memoryTests =
    testList "memory stays flat" [
        test "2,000 training steps leave no live tensors and no native memory behind" {
            let state, step = stepsOnRandomImages (conv2d 6 5 --> relu --> maxPool 2 --> flatten --> dropout 0.2 --> linear 10)
            Expect.equal (writtenOut state) false "autograd's path is what is measured (dropout)"
            let tensors, nativeKiB, growthText = growth 2000 step
            Expect.isLessThanOrEqual tensors 2L $"live tensors grew by {tensors}"
            Expect.isLessThan nativeKiB 1024L growthText
        }
        test "2,000 training steps of a plain pipeline (its backward pass written out) leave no live tensors and no native memory behind" {
            let state, step = stepsOnRandomImages (conv2d 6 5 --> relu --> maxPool 2 --> conv2d 16 5 --> relu --> maxPool 2 --> flatten --> linear 10)
            Expect.equal (writtenOut state) true "the written-out pass is what is measured"
            let tensors, nativeKiB, growthText = growth 2000 step
            Expect.isLessThanOrEqual tensors 2L $"live tensors grew by {tensors}"
            Expect.isLessThan nativeKiB 1024L growthText
        }
        // Through autograd, the layers that are TorchSharp autograd functions (the few-channel convolution, the 2×2 max
        // pool) still leave TorchSharp's own delegates per graph node (~3 per node, 8 bytes each); measured here on a
        // model without them.
        test "training steps leave no native memory for finalizers to free (written out and through autograd)" {
            for net, written in [ conv2d 6 5 --> relu --> maxPool 2 --> conv2d 16 5 --> relu --> maxPool 2 --> flatten --> linear 10, true
                                  flatten --> linear 64 --> relu --> dropout 0.2 --> linear 10, false ] do
                let state, step = stepsOnRandomImages net
                Expect.equal (writtenOut state) written "the path measured"
                let kib = leftToFinalizers 100 step
                Expect.isLessThan kib 16L $"{net.Describe()}: 100 steps left {kib} KiB of native memory to the finalizers"
        }
        // The collector's young budget grows with the processor's last-level cache (on a VM reporting 300 MB of L3 it
        // did not run once in 1,876 LeNet steps); the training step collects young garbage itself after every
        // GarbageBound.Allowance bytes allocated. Where the budget is small the collector runs more often on its own,
        // so this only ever fails when training leaves the collection to a budget larger than the allowance.
        test "training steps collect their managed garbage at least once per 16 MiB allocated" {
            Seed.set 4
            let allowance =
                typeof<Training.TrainState>.Assembly.GetType("NeuralVision.Training.GarbageBound").GetField("Allowance").GetValue(null) :?> int64
            let data = TensorData(torch.rand([| 640L; 1L; 28L; 28L |]), torch.randint(10L, [| 640L |]))
            let model = Model.build [ 1; 28; 28 ] (conv2d 6 5 --> relu --> maxPool 2 --> flatten --> linear 10)
            let loader = batches 64 data
            let mutable state = Train.start (adam 1e-3) crossEntropy model
            let allocated0, collections0 = GC.GetTotalAllocatedBytes(), GC.CollectionCount 0
            let mutable epoch = 0
            while GC.GetTotalAllocatedBytes() - allocated0 < 4L * allowance && epoch < 2000 do
                epoch <- epoch + 1
                for batch in loader.Epoch epoch do state <- Train.step state batch
            let allocated, collections = GC.GetTotalAllocatedBytes() - allocated0, GC.CollectionCount 0 - collections0
            Expect.isGreaterThanOrEqual (int64 collections) (allocated / allowance - 1L)
                $"young collections during {epoch} epochs that allocated {allocated / 1048576L} MiB"
        }
        test "500 predictions of a convolutional model (channels-last copies, in-place ReLU, slices) leave no live tensors behind" {
            Seed.set 2
            let model = Model.build [ 3; 16; 16 ] (conv2d 8 3 --> relu --> residual (conv2dSame 8 3 --> batchNorm2d) --> maxPool 2 --> flatten --> linear 10)
            let folded = model.ForInference()
            let x = torch.rand([| 8L; 3L; 16L; 16L |])
            let sliced = torch.rand([| Layers.Model.PredictionSlice + 1L; 3L; 4L; 4L |])
            let small = Model.build [ 3; 4; 4 ] (conv2d 8 3 --> relu --> flatten --> linear 10)
            let tensors, _, _ = growth 500 (fun () -> (use a = model.Predict x in use b = folded.Predict x in use c = small.Predict sliced in ()))
            Expect.isLessThanOrEqual tensors 2L $"live tensors grew by {tensors}"
        }
        test "predictions through oneDNN plans, made and dropped for four batch sizes in turn, leave no native memory behind" {
            Seed.set 3
            let model = Model.build [ 3; 16; 16 ] (conv2dSame 16 3 --> relu --> residual (conv2dSame 16 3 --> batchNorm2d --> relu --> conv2dSame 16 3) --> relu --> maxPool 2 --> flatten --> linear 10)
            let folded = model.ForInference()
            Expect.stringStarts folded.InferenceEngine "oneDNN" "the plans are what is measured"
            // More sizes than the plans kept: every prediction makes a plan and drops the oldest.
            let batches = [| for n in [ 1L; 5L; 9L; 13L ] -> torch.rand([| n; 3L; 16L; 16L |]) |]
            let next = ref 0
            let tensors, nativeKiB, growthText = growth 400 (fun () -> (use y = folded.Predict batches.[next.Value % 4] in next.Value <- next.Value + 1))
            Expect.isLessThanOrEqual tensors 2L $"live tensors grew by {tensors}"
            Expect.isLessThan nativeKiB 1024L growthText
        }
        test "the check catches a leak: a step that keeps one tensor is found" {
            let leaked = Collections.Generic.List<torch.Tensor>()
            let tensors, nativeKiB, _ = growth 200 (fun () -> leaked.Add(torch.ones(2048L)))
            Expect.isGreaterThanOrEqual tensors 200L "each leaked tensor counts"
            Expect.isGreaterThanOrEqual nativeKiB 1600L "and its 8 KiB of native memory"
            for t in leaked do t.Dispose()
        }
    ]

let private smallData (n: int) =
    let data = FashionMnist.Load()
    data.Train.Take(n).ToData(), data.Test.Take(n / 2).ToData()

let private cnn = conv2d 8 3 --> relu --> maxPool 2 --> dropout2d 0.1 --> flatten --> linear 32 --> relu --> dropout 0.3 --> linear 10


let resumeTests =
    testList "checkpoints and resume" [
        test "a run resumed from its epoch-2 checkpoint ends bit-identical to the uninterrupted run" {
            let train, _ = smallData 1200
            Files.inTempDir (fun dir ->
                let fresh seed =
                    Seed.set seed
                    let model = Model.build [ 1; 28; 28 ] cnn
                    let loader = Loader(train, 64, true, 1234L)
                    Train.start (adam 1e-3) crossEntropy model, loader
                // Uninterrupted: 4 epochs.
                let s, loader = fresh 5
                let straight = Train.run Train.quiet loader s |> Seq.truncate 4 |> Seq.last
                // Interrupted after 2 epochs (checkpoint each epoch), then resumed in a fresh model.
                let path = Path.Combine(dir, "run.nvck")
                let s1, loader1 = fresh 5
                Train.run Train.quiet loader1 s1 |> Checkpoint.every path |> Seq.truncate 2 |> Seq.iter ignore
                Seed.set 99 // the resumed process starts from another random state; the checkpoint restores it
                let s2, loader2 = fresh 77
                let resumedState = Checkpoint.resume path s2
                Expect.equal resumedState.Epoch 2 "resumes after epoch 2"
                let resumed = Train.run Train.quiet loader2 resumedState |> Seq.truncate 2 |> Seq.last
                Expect.equal resumed.Epoch 4 "ends at epoch 4"
                Expect.equal (weightsOf resumed.State.Model) (weightsOf straight.State.Model) "bit-identical weights"
                Expect.equal resumed.TrainLoss straight.TrainLoss "and the same last epoch loss")
        }
        test "a failed checkpoint write leaves the previous checkpoint intact and no temporary file" {
            Files.inTempDir (fun dir ->
                let path = Path.Combine(dir, "w.bin")
                Checkpoint.WriteAtomically(path, fun w -> w.Write "good")
                let before = File.ReadAllBytes path
                Expect.throwsT<IOException> (fun () -> Checkpoint.WriteAtomically(path, fun w -> w.Write "half"; raise (IOException "disk full"))) "the write fails"
                Expect.equal (File.ReadAllBytes path) before "the old file is untouched"
                Expect.equal (Directory.GetFiles dir |> Array.map Path.GetFileName) [| "w.bin" |] "no temporary file left")
        }
        test "weights saved and loaded give the same outputs" {
            Files.inTempDir (fun dir ->
                let a = Model.build [ 1; 28; 28 ] cnn
                let b = Model.build [ 1; 28; 28 ] cnn
                let path = Path.Combine(dir, "a.weights")
                Checkpoint.saveWeights path a
                Checkpoint.loadWeights path b
                Expect.equal (weightsOf b) (weightsOf a) "same parameters")
        }
        test "loading weights of another architecture is one clear error" {
            Files.inTempDir (fun dir ->
                let path = Path.Combine(dir, "a.weights")
                Checkpoint.saveWeights path (Model.build [ 1; 28; 28 ] cnn)
                let other = Model.build [ 1; 28; 28 ] (flatten --> linear 10)
                let e = Expect.throwsC (fun () -> Checkpoint.loadWeights path other) id
                Expect.isTrue (e :? CheckpointException) $"a CheckpointException, got {e.GetType().Name}: {e.Message}"
                Expect.stringContains e.Message path "names the file")
        }
    ]

let callbackTests =
    testList "callbacks over the run" [
        test "early stopping stops, and restores the best epoch's weights" {
            let train, test = smallData 600
            Seed.set 3
            let model = Model.build [ 1; 28; 28 ] cnn
            let history =
                Train.start (adam 3e-3) crossEntropy model
                |> Train.run Train.quiet (batches 32 train)
                |> Seq.map (Eval.on test Metric.accuracy)
                |> EarlyStop.patience 2
                |> Seq.truncate 30
                |> List.ofSeq
            Expect.isLessThan history.Length 30 $"stopped early after {history.Length} epochs"
            let best = history |> List.minBy (fun r -> r.["val_loss"])
            let now = Eval.model test [ Metric.accuracy ] model
            Expect.floatClose Accuracy.veryHigh now.["accuracy"] best.["accuracy"] "the model is back at its best epoch"
            Expect.equal (history |> List.last).Epoch (best.Epoch + 2) "two epochs without improvement, then stop"
        }
        test "a NaN loss stops the run with epoch and step, before the bad step changes any weight" {
            Seed.set 4
            let model = Model.build [ 2 ] (linear 1)
            let before = weightsOf model
            let x = torch.tensor(array2D [ [ 1.f; 2.f ]; [ 3.f; 4.f ] ])
            let y = torch.tensor(array2D [ [ 1.f ]; [ nanf ] ])
            let run = Train.start (sgd 0.1) mse model |> Train.run Train.quiet (batchesInOrder 1 (TensorData(x, y)))
            let e = Expect.throwsC (fun () -> run |> Seq.head |> ignore) id
            match e with
            | :? TrainingDivergedException as d ->
                Expect.equal (d.Epoch, d.Step) (1, 2L) "the second step of the first epoch"
                Expect.isTrue (Double.IsFinite d.LastFiniteLoss) "reports the last finite loss"
                Expect.isTrue (weightsOf model |> List.forall (Array.forall Single.IsFinite)) "weights stay finite"
                Expect.notEqual (weightsOf model) before "the first (good) step did change them"
            | other -> failtest $"expected TrainingDivergedException, got {other}"
        }
        test "training switches to training mode; evaluation, prediction and summaries leave the mode as they found it" {
            let train, test = smallData 200
            let model = Model.build [ 1; 28; 28 ] cnn
            let result = Train.start (adam 1e-3) crossEntropy model |> Train.run Train.quiet (batches 50 train) |> Seq.head
            Expect.isTrue model.IsTraining "training mode during and after the epoch"
            Eval.on test Metric.accuracy result |> ignore
            Expect.isTrue model.IsTraining "still in training mode after evaluation"
            model.Predict(test.Inputs.narrow(0L, 0L, 4L)) |> ignore
            model.Summary() |> ignore
            Expect.isTrue model.IsTraining "and after prediction and a summary"
            model.Eval()
            Eval.model test [ Metric.accuracy ] model |> ignore
            model.Predict(test.Inputs.narrow(0L, 0L, 4L)) |> ignore
            Expect.isFalse model.IsTraining "a model put in evaluation mode by hand stays there"
            Train.run Train.quiet (batches 50 train) result.State |> Seq.head |> ignore
            Expect.isTrue model.IsTraining "the next epoch trains in training mode"
        }
        test "the same seed trains to bit-identical weights with and without an evaluation after every epoch" {
            let train, test = smallData 300
            let trained evaluate =
                Seed.set 17
                let model = Model.build [ 1; 28; 28 ] cnn // dropout draws from libtorch's generator every step
                let run = Train.start (adam 1e-3) crossEntropy model |> Train.run Train.quiet (batches 50 train)
                let run = if evaluate then run |> Seq.map (Eval.on test Metric.accuracy) |> Seq.map (fun r -> r.State.Model.Predict(test.Inputs.narrow(0L, 0L, 8L)) |> ignore; r) else run
                run |> Seq.truncate 3 |> Seq.iter ignore
                weightsOf model
            Expect.equal (trained true) (trained false) "evaluation, prediction and their loaders draw no random number that training would see"
        }
        test "a step consumes the state it is given: an old state refuses use" {
            let model = Model.build [ 2 ] (linear 1)
            let batch () = new Batch(torch.ones(4L, 2L), torch.zeros(4L, 1L))
            let s0 = Train.start (sgd 0.1) mse model
            let s1 = Train.step s0 (batch ())
            Expect.isTrue s0.IsConsumed "the state given to the step is consumed"
            Expect.isFalse s1.IsConsumed "the state it returned is live"
            let refused (f: unit -> unit) what =
                let e = Expect.throwsC f id
                Expect.isTrue (e :? ConsumedStateException) $"{what}: ConsumedStateException, got {e.GetType().Name}: {e.Message}"
                e.Message
            let message = refused (fun () -> Train.step s0 (batch ()) |> ignore) "stepping the old state"
            Expect.stringContains message "consumed by step 1 (epoch 1)" "says which step consumed it"
            Expect.stringContains message "Use the state that step returned" "and what to do"
            Files.inTempDir (fun dir ->
                refused (fun () -> Training.Checkpoint.Save(s0, Path.Combine(dir, "old.nvck"))) "saving the old state" |> ignore
                Expect.isFalse (File.Exists(Path.Combine(dir, "old.nvck"))) "nothing is written")
            let s2 = Train.step s1 (batch ())
            Expect.equal s2.Step 2L "the live state steps on"
        }
        test "a run enumerated a second time is refused, not silently trained on from changed weights" {
            let train, _ = smallData 100
            let model = Model.build [ 1; 28; 28 ] cnn
            let run = Train.start (adam 1e-3) crossEntropy model |> Train.run Train.quiet (batches 50 train)
            let first = run |> Seq.truncate 2 |> List.ofSeq
            Expect.equal (first |> List.map _.Epoch) [ 1; 2 ] "the first enumeration trains epochs 1 and 2"
            let e = Expect.throwsC (fun () -> run |> Seq.head |> ignore) id
            Expect.isTrue (e :? ConsumedStateException) $"ConsumedStateException, got {e.GetType().Name}"
            Expect.stringContains e.Message "cannot run (enumerate) training from this state" "says what was refused"
            Expect.stringContains e.Message "enumerating it a second time is refused" "and why"
            let resumed = Train.run Train.quiet (batches 50 train) (List.last first).State |> Seq.head
            Expect.equal resumed.Epoch 3 "a new run from the latest state continues at epoch 3"
        }
        test "a figure's direction comes from its metric, not its name" {
            // "gain_loss" is a made-up figure where higher is better although its name says loss.
            let state = Train.start (sgd 0.1) mse (Model.build [ 2 ] (linear 1))
            let results =
                [ 0.5; 0.7; 0.6; 0.65; 0.4; 0.3 ]
                |> List.mapi (fun i v ->
                    EpochResult(i + 1, 1.0, Collections.Immutable.ImmutableDictionary.Empty, state, TimeSpan.Zero, 0.1).With("gain_loss", v, true))
            let stopped = results.EarlyStopping("gain_loss", 2, restoreBest = false) |> List.ofSeq
            Expect.equal (stopped |> List.map _.Epoch) [ 1; 2; 3; 4 ] "best at epoch 2 (0.7, higher), two epochs without a better one, stop"
            let lowerBetter = results |> List.map (fun r -> r.With("gain_loss", r.["gain_loss"], false))
            Expect.equal (lowerBetter.EarlyStopping("gain_loss", 2, restoreBest = false) |> Seq.map _.Epoch |> List.ofSeq) [ 1; 2; 3 ]
                "the same values with lower-is-better: best at epoch 1 (0.5), worse at 2 and 3, stop"
            let rates =
                results.ReduceOnPlateau(Optim.ReduceOnPlateau(Factor = 0.5, Patience = 1), "gain_loss") |> Seq.map _.LearningRate |> List.ofSeq
            Expect.equal state.LearningRate 0.025 $"the plateau lowers the rate after two epochs without a higher value each time (rates seen {rates})"
            Expect.isTrue (Metric.accuracy.HigherIsBetter && not Metric.mse.HigherIsBetter) "metrics carry their direction"
        }
        test "watching a figure the run does not have is refused with the names it has" {
            let train, test = smallData 200
            let model = Model.build [ 1; 28; 28 ] cnn
            let run () = Train.start (adam 1e-3) crossEntropy model |> Train.run Train.quiet (batches 50 train) |> Seq.map (Eval.on test Metric.accuracy)
            for name, watch in [ "early stopping", EarlyStop.on "val_acc" 2; "the best-weights checkpoint", Checkpoint.best (Path.Combine(Path.GetTempPath(), "never.nv")) "val_acc"
                                 "the plateau schedule", Schedule.onPlateau "val_acc" 0.5 2 ] do
                let e = Expect.throwsC (fun () -> run () |> watch |> Seq.head |> ignore) id
                Expect.isTrue (e :? ArgumentException) $"{name}: an ArgumentException, got {e.GetType().Name}"
                Expect.stringContains e.Message $"{name} watches 'val_acc', which epoch 1 does not have; it has loss, " name
                Expect.stringContains e.Message "val_loss" "names the figures it has"
                Expect.stringContains e.Message "accuracy" "names the figures it has"
        }
        test "an epoch schedule sets the rate for the next epoch" {
            let train, _ = smallData 200
            let model = Model.build [ 1; 28; 28 ] cnn
            let rates =
                Train.start (sgd 0.1) crossEntropy model
                |> Train.run Train.quiet (batches 100 train)
                |> Schedule.apply (Schedule.step 1 0.5)
                |> Seq.truncate 3
                |> Seq.map _.LearningRate
                |> List.ofSeq
            Expect.equal rates [ 0.1; 0.05; 0.025 ] "halved each epoch"
        }
    ]

let optionTests =
    testList "step options" [
        test "one-cycle sets the rate every step" {
            let train, _ = smallData 256
            let model = Model.build [ 1; 28; 28 ] cnn
            let schedule = Schedule.oneCycle 0.01 8
            let rates = Collections.Generic.List<float>()
            let observer =
                { new ITrainingObserver with
                    member _.EpochStarted(_, _) = ()
                    member _.StepFinished s = rates.Add(s.LearningRate)
                    member _.EpochFinished _ = () }
            Train.fit { Train.quiet with StepSchedule = Some schedule; Observers = [ observer ] } (adam 0.01) crossEntropy model (batchesInOrder 64 train)
            |> Seq.truncate 2 |> Seq.iter ignore
            Expect.equal (List.ofSeq rates) [ for i in 0 .. 7 -> schedule.At(i, 0.) ] "the rate of each step is the schedule's"
        }
        test "gradient clipping bounds the step" {
            Seed.set 6
            let model = Model.build [ 4 ] (linear 1)
            let before = weightsOf model |> Array.concat
            let x, y = torch.ones([| 8L; 4L |]).mul(torch.tensor 100.f), torch.zeros([| 8L; 1L |])
            Train.fit { Train.quiet with ClipGradNorm = Some 0.5 } (sgd 1.0) mse model (batchesInOrder 8 (Dataset.ofTensors x y)) |> Seq.head |> ignore
            let after = weightsOf model |> Array.concat
            let moved = Array.map2 (fun a b -> float (a - b) ** 2.) after before |> Array.sum |> sqrt
            Expect.isLessThanOrEqual moved (0.5 + 1e-5) $"|Δw| = lr · |clipped grad| ≤ 0.5, got {moved}"
            Expect.isGreaterThan moved 0.4 "and the step happened"
        }
    ]

let metricTests =
    let figure (metric: Metric) (o: torch.Tensor) (t: torch.Tensor) = metric.Finish.Invoke(metric.Sums.Invoke(o, t))
    testList "metrics (hand-computed)" [
        test "accuracy, top-k, precision, recall, F1" {
            let logits = torch.tensor(array2D [ [ 3.f; 1.f; 0.f ]; [ 0.f; 2.f; 1.f ]; [ 0.f; 1.f; 2.f ]; [ 2.f; 0.f; 1.f ] ])
            let labels = torch.tensor([| 0L; 2L; 2L; 1L |]) // predictions 0, 1, 2, 0
            Expect.equal (figure Metric.accuracy logits labels) 0.5 "2 of 4"
            Expect.equal (figure (Metric.topK 2) logits labels) 0.75 "all but the last have the truth in their top 2"
            // per class (tp, predicted, actual): 0 (1,2,1), 1 (0,1,1), 2 (1,1,2)
            Expect.floatClose Accuracy.veryHigh (figure (Metric.precision 3) logits labels) ((0.5 + 0. + 1.) / 3.) "precision"
            Expect.floatClose Accuracy.veryHigh (figure (Metric.recall 3) logits labels) ((1. + 0. + 0.5) / 3.) "recall"
            Expect.floatClose Accuracy.veryHigh (figure (Metric.f1 3) logits labels) ((2. / 3. + 0. + 2. / 3.) / 3.) "F1 = 2tp/(predicted + actual)"
        }
        test "mse, mae, psnr" {
            let o, t = torch.tensor([| 0.5f; 0.5f |]).reshape(1L, 2L), torch.tensor([| 0.f; 1.f |]).reshape(1L, 2L)
            Expect.floatClose Accuracy.high (figure Metric.mse o t) 0.25 "mse"
            Expect.floatClose Accuracy.high (figure Metric.mae o t) 0.5 "mae"
            Expect.floatClose Accuracy.high (figure Metric.psnr o t) (10. * log10 (1. / 0.25)) "psnr"
        }
        test "mask IoU and Dice" {
            let logits = torch.tensor([| 5.f; 5.f; -5.f; -5.f |]).reshape(1L, 1L, 2L, 2L)
            let mask = torch.tensor([| 1.f; 0.f; 1.f; 0.f |]).reshape(1L, 1L, 2L, 2L)
            Expect.floatClose Accuracy.high (figure Metric.iou logits mask) (1. / 3.) "1 shared pixel of 3"
            Expect.floatClose Accuracy.high (figure Metric.dice logits mask) 0.5 "2·1 / (2 + 2)"
        }
        test "box IoU of the course's outputs" {
            // predicted: centre (0.5, 0.5), size (0.5, 0.5); truth: centre (0.625, 0.5), size (0.5, 0.5): overlap 0.375×0.5
            let o = torch.tensor(array2D [ [ 10.f; 0.f; 0.f; float32 (log 0.5); float32 (log 0.5) ] ])
            let t = torch.tensor(array2D [ [ 1.f; 0.625f; 0.5f; 0.5f; 0.5f ] ])
            let inter = 0.375 * 0.5
            Expect.floatClose Accuracy.medium (figure Metric.boxIou o t) (inter / (0.25 + 0.25 - inter)) "IoU"
        }
        test "the confusion matrix" {
            let logits = torch.tensor(array2D [ [ 3.f; 1.f ]; [ 0.f; 2.f ]; [ 2.f; 0.f ] ])
            let model = Model.build [ 2 ] identity
            let matrix = Evaluation.Confusion(model, [ new Batch(logits, torch.tensor([| 0L; 1L; 1L |])) ], 2)
            Expect.equal matrix (array2D [ [ 1L; 0L ]; [ 1L; 1L ] ]) "rows true, columns predicted"
        }
    ]

// Sequenced: these tests seed libtorch's global generator and measure memory, so nothing may run beside them.
let tests = testSequenced (testList "training" [ foldTests; courseReplayTests; flatTests; manualBackwardTests; memoryTests; resumeTests; callbackTests; optionTests; metricTests ])
