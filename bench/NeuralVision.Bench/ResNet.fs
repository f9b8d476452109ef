/// ResNet-18 where users spend their time: training on 3x64x64 inputs (batch 32, Adam, BatchNorm in training mode)
/// against PyTorch running the same network in plain torch.nn, and inference at 224x224 (batch 16, evaluation mode)
/// against ONNX Runtime (all graph optimisations, 2 intra-op threads) running NeuralVision's own exported model.
module NeuralVision.Bench.ResNet

open System
open System.IO
open TorchSharp
open Microsoft.ML.OnnxRuntime
open NeuralVision
open NeuralVision.Bench.Measure

let private steps, private warmup = 12, 3

/// ResNet-18 (10 classes) in training mode with Adam, and one training step on a batch of 32 random 3x64x64
/// images; the batch is not owned by the steps (they free owned batches): a step's time does not depend on the values.
let training () =
    Seed.set 0
    let model = Model.build [ 3; 64; 64 ] (Vision.ResNet.ResNet18 10)
    let inputs, targets = torch.randn(32L, 3L, 64L, 64L), torch.randint(10L, [| 32L |])
    let state = ref (Train.start (adam 1e-3) crossEntropy model)
    model.Train()
    model, fun () -> state.Value <- Train.step state.Value (new Data.Batch(inputs, targets))

/// NeuralVision's training steps: the median images per second.
let trainImagesPerSecond () =
    let _, step = training ()
    let times = [ for s in 1 .. warmup + steps -> s, seconds step ] |> List.filter (fun (s, _) -> s > warmup) |> List.map snd
    32. / median times

/// PyTorch's images per second on the same network and loop (bench/pytorch/resnet18.py), or None.
let pytorchTrainImagesPerSecond (root: string) (env: (string * string) list) =
    let info = Diagnostics.ProcessStartInfo("/usr/bin/python3", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    for a in [ Path.Combine(root, "bench", "pytorch", "resnet18.py"); "--steps"; string steps; "--warmup"; string warmup; "--threads"; string (torch.get_num_threads ()) ] do
        info.ArgumentList.Add a
    for k, v in env do info.Environment.[k] <- v
    use p = Diagnostics.Process.Start info
    let out = p.StandardOutput.ReadToEnd()
    let err = p.StandardError.ReadToEnd()
    p.WaitForExit()
    if p.ExitCode <> 0 then eprintfn "C: the PyTorch ResNet-18 run failed: %s" err; None
    else Some (Text.Json.JsonDocument.Parse(out.Trim()).RootElement.GetProperty("images_per_s").GetDouble())

/// ResNet-18 (1000 classes) and a batch of 16 random 3x224x224 images.
let inferenceSetup () =
    Seed.set 0
    Model.build [ 3; 224; 224 ] (Vision.ResNet.ResNet18 1000), torch.randn(16L, 3L, 224L, 224L)

/// Inference on 16 random 3x224x224 images, NeuralVision's Predict on the model rewritten for inference
/// (`ForInference`: BatchNorm folded into the convolutions, as ONNX Runtime does when it loads a graph, and run by
/// oneDNN plans where the machine has oneDNN) against ONNX Runtime on the model NeuralVision exported, alternating:
/// (NeuralVision images/s, ONNX Runtime images/s, largest output difference, what ran NeuralVision's predictions). Each timed run starts after a pause, so that neither side's worker threads, still
/// spinning for work after their last run (ONNX Runtime's and OpenMP's do), take CPU from the other's run.
let inference (rounds: int) =
    let model, x = inferenceSetup ()
    let path = Path.Combine(Path.GetTempPath(), $"nv-bench-resnet18-{Environment.ProcessId}.onnx")
    Onnx.export path model
    let data = x.data<float32>().ToArray()
    use options = new SessionOptions(GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 2, InterOpNumThreads = 1)
    use session = new InferenceSession(path, options)
    let input = Tensors.DenseTensor<float32>(Memory<float32>(data), ReadOnlySpan<int>([| 16; 3; 224; 224 |]))
    let runOnnx () =
        use results = session.Run([ NamedOnnxValue.CreateFromTensor("input", input) ])
        (Seq.head results).AsTensor<float32>() |> Seq.toArray
    let inferenceModel = model.ForInference()
    let ours () =
        use scope = torch.NewDisposeScope()
        (inferenceModel.Predict x).data<float32>().ToArray()
    let difference = Array.map2 (fun (a: float32) b -> abs (float a - float b)) (ours ()) (runOnnx ()) |> Array.max
    ours () |> ignore; runOnnx () |> ignore // warm-up
    let afterPause (run: unit -> float32[]) = Threading.Thread.Sleep 200; seconds (run >> ignore)
    let timed = [ for _ in 1 .. rounds -> afterPause ours, afterPause runOnnx ]
    File.Delete path
    16. / median (List.map fst timed), 16. / median (List.map snd timed), difference, inferenceModel.InferenceEngine
