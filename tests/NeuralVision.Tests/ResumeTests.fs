/// Faults across processes: a run killed with SIGKILL resumes to the same weights, a killed checkpoint
/// write never leaves a torn file, and the same seed gives the same loss history in two processes.
module NeuralVision.Tests.ResumeTests

open System
open System.Diagnostics
open System.IO
open System.Security.Cryptography
open Expecto
open TorchSharp
open NeuralVision
open NeuralVision.Data

let private net = conv2d 8 3 --> relu --> maxPool 2 --> dropout2d 0.1 --> flatten --> linear 32 --> relu --> dropout 0.3 --> linear 10

let private fresh () =
    Seed.set 21
    let data = FashionMnist.Load().Train.Take(768).ToData()
    let loader = (Loader(data, 32, true, 99L)).WithAugmentation(Augmenter([ RandomCrop 2; HorizontalFlip(); GaussianNoise 0.05 ], 7L))
    let model = Model.build [ 1; 28; 28 ] net
    Train.start (adam 1e-3) crossEntropy model, loader

let private weightsHash (model: Layers.Model) =
    let bytes = [| for p in model.Parameters do yield! p.Value.detach().data<float32>().ToArray() |> Array.collect BitConverter.GetBytes |]
    Convert.ToHexString(SHA256.HashData bytes)

/// Child mode "train CHECKPOINT EPOCHS SLOW_MS": trains (resuming from CHECKPOINT when it exists), saving
/// the whole state after every epoch; prints each epoch's loss and, at the end, the weights' hash.
let childMain (args: string list) =
    match args with
    | [ checkpoint; epochs; slowMs ] ->
        let state, loader = fresh ()
        let start = if File.Exists checkpoint then Checkpoint.resume checkpoint state else state
        let pause = int slowMs
        let slowLoader = if pause > 0 then loader.Epoch >> Seq.map (fun b -> Threading.Thread.Sleep pause; b) else loader.Epoch
        let last =
            Training.Train.Run(start, Func<int, seq<Data.Batch>> slowLoader)
            |> Checkpoint.every checkpoint
            |> Seq.map (fun r -> printfn "epoch %d loss %s" r.Epoch (r.TrainLoss.ToString "R"); r)
            |> Seq.skipWhile (fun r -> r.Epoch < int epochs)
            |> Seq.head
        printfn "weights %s" (weightsHash last.State.Model)
        0
    | _ -> eprintfn "usage: --child train CHECKPOINT EPOCHS SLOW_MS"; 2

/// Child mode "write PATH": writes the weights of a large model to PATH over and over (until killed).
let writerMain (args: string list) =
    let model = Model.build [ 2048 ] (linear 2048 --> linear 2048 --> linear 1024)
    while true do Training.Checkpoint.SaveWeights(model, List.head args)
    0

let private startChild (mode: string) (args: string list) =
    let host = Environment.ProcessPath
    let info = ProcessStartInfo(host, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    if Path.GetFileNameWithoutExtension host = "dotnet" then info.ArgumentList.Add(Reflection.Assembly.GetEntryAssembly().Location)
    for a in ChildProcess.Flag :: mode :: args do info.ArgumentList.Add a
    Process.Start info

let private lines (out: string) = out.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) |> List.ofArray

let tests =
    testSequenced (testList "faults across processes" [
        test "killed with SIGKILL mid-epoch, a run resumes to bit-identical weights; the same seed gives the same losses" {
            Files.inTempDir (fun dir ->
                let run checkpoint = ChildProcess.run "train" [ checkpoint; "4"; "0" ] []
                let code, straight, err = run (Path.Combine(dir, "straight.nvck"))
                Expect.equal code 0 err
                let code2, again, err2 = run (Path.Combine(dir, "again.nvck"))
                Expect.equal code2 0 err2
                Expect.equal (lines again) (lines straight) "same seed: the same loss history (loader order and augmentation included) and weights"
                // Killed: slow steps so that the kill lands inside epoch 3, after epoch 2's checkpoint.
                let checkpoint = Path.Combine(dir, "killed.nvck")
                use child = startChild "train" [ checkpoint; "4"; "40" ]
                let clock = Stopwatch.StartNew()
                let mutable epochsSeen = 0
                while epochsSeen < 2 && clock.Elapsed < TimeSpan.FromMinutes 3. do
                    let line = child.StandardOutput.ReadLine()
                    if not (isNull line) && line.StartsWith "epoch" then epochsSeen <- epochsSeen + 1
                Threading.Thread.Sleep 300 // well into epoch 3 (24 steps of ≥ 40 ms)
                child.Kill() // SIGKILL on Linux
                child.WaitForExit()
                Expect.equal epochsSeen 2 "the child finished two epochs before the kill"
                Expect.isTrue (File.Exists checkpoint) "the epoch-2 checkpoint is there"
                let code3, resumed, err3 = run checkpoint
                Expect.equal code3 0 err3
                let weights (out: string) = lines out |> List.find (fun l -> l.StartsWith "weights")
                Expect.equal (weights resumed) (weights straight) "the resumed run ends with the same weights, bit for bit"
                Expect.equal (lines resumed |> List.filter (fun l -> l.StartsWith "epoch")) (lines straight |> List.filter (fun l -> l.StartsWith "epoch 3" || l.StartsWith "epoch 4")) "and the same losses for epochs 3 and 4")
        }
        test "a NaN loss stops the run and the last good checkpoint stays loadable" {
            Files.inTempDir (fun dir ->
                let path = Path.Combine(dir, "run.nvck")
                let state, loader = fresh ()
                // Epoch 2 meets a batch whose inputs are NaN.
                let poisoned epoch =
                    if epoch < 2 then loader.Epoch epoch
                    else loader.Epoch epoch |> Seq.mapi (fun i b -> if i = 5 then new Data.Batch(b.Inputs.mul(torch.tensor nanf), b.Targets, true) else b)
                let run = Training.Train.Run(state, Func<int, seq<Data.Batch>> poisoned) |> Checkpoint.every path
                let e = Expect.throwsC (fun () -> run |> Seq.iter ignore) id
                Expect.isTrue (e :? Training.TrainingDivergedException) $"diverged: {e.Message}"
                Expect.stringContains e.Message "epoch 2, step" "the report names epoch and step"
                let state2, _ = fresh ()
                Expect.equal (Checkpoint.resume path state2).Epoch 1 "epoch 1's checkpoint is intact")
        }
        test "a checkpoint write killed at any moment never leaves a torn file in place" {
            Files.inTempDir (fun dir ->
                let path = Path.Combine(dir, "weights.bin")
                let random = Random 5
                let probe = Model.build [ 2048 ] (linear 2048 --> linear 2048 --> linear 1024)
                for attempt in 1 .. 5 do
                    use child = startChild "write" [ path ]
                    // Wait for a first complete file, then kill at a random moment of the following writes.
                    let clock = Stopwatch.StartNew()
                    while not (File.Exists path) && clock.Elapsed < TimeSpan.FromMinutes 1. do Threading.Thread.Sleep 20
                    Threading.Thread.Sleep(random.Next(50, 600))
                    child.Kill()
                    child.WaitForExit()
                    Training.Checkpoint.LoadWeights(probe, path) // throws on a torn file
                Expect.isTrue (File.Exists path) "a complete file stays in place")
        }
    ])
