/// The F# surface as a learner meets it in `dotnet fsi`: a page of tensor math checked value by value, examples
/// and README free of C# showing through, every README F# block run against the build, and the options of
/// layers, optimisers and training.
module NeuralVision.Tests.FSharpSurfaceTests

open System
open System.IO
open System.Text.RegularExpressions
open Expecto
open NeuralVision

/// What shows C# or TorchSharp through an F# script: each a sign that the F# surface is missing something.
let private forbidden =
    [ "struct (", "a struct tuple"; "Func<", "a System.Func"; "System.Func", "a System.Func"; "KeyValuePair", "a KeyValuePair"
      ":?>", "a downcast"; ":> Optimiser", "an upcast to Optimiser"; "Layers.Net.", "the C# layer factory"; ".Eval()", "the mode set by hand" ]
let private int64Literal = Regex(@"(?<![\w.])\d+L\b")

/// (token, line) for every forbidden token and int64 literal in a text.
let scan (text: string) : (string * int) list =
    [ for number, line in Seq.indexed (text.Split '\n') do
          let comment = line.IndexOf "//"
          let code = if comment >= 0 then line.Substring(0, comment) else line
          for token, _ in forbidden do
              if code.Contains token then yield token, number + 1
          for m in int64Literal.Matches code do yield m.Value, number + 1 ]

/// The README's F# blocks, in order.
let readmeBlocks () : string list =
    let readme = File.ReadAllText(Path.Combine(Repo.root.Value, "README.md"))
    [ for m in Regex.Matches(readme, "```fsharp\n(.*?)```", RegexOptions.Singleline) -> m.Groups.[1].Value ]

let private exampleScripts () =
    Directory.GetFiles(Path.Combine(Repo.root.Value, "examples"), "*.fsx") |> Array.sort |> List.ofArray

let private runFsi (script: string) (workDir: string) (minutes: float) =
    let info = Diagnostics.ProcessStartInfo("dotnet", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir)
    for a in [ "fsi"; "--quiet"; script ] do info.ArgumentList.Add a
    use p = Diagnostics.Process.Start info
    let out, err = p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync()
    if not (p.WaitForExit(TimeSpan.FromMinutes minutes)) then
        p.Kill true
        failtest $"{script} ran longer than {minutes} minutes"
    p.ExitCode, out.Result, err.Result

let tests =
    testList "the F# surface" [
        test "a page of tensor math compiles in fsi without annotations and every value is the hand-computed one" {
            let page = Path.Combine(Repo.root.Value, "tests", "NeuralVision.Tests", "fixtures", "tensor-page.fsx")
            let code, out, err = runFsi page (Path.GetTempPath()) 5.0
            Expect.equal code 0 $"the page failed:\n{out}\n{err}"
            let summary = Regex.Match(out, @"page: (\d+) checks, (\d+) failed")
            Expect.isTrue summary.Success $"no summary line:\n{out}"
            Expect.isGreaterThanOrEqual (int summary.Groups.[1].Value) 45 "the page checks at least 45 expressions"
            Expect.equal summary.Groups.[2].Value "0" "no check failed"
        }
        test "the scan finds every forbidden token and int64 literals, and skips comments" {
            let sample = "let struct (a, b) = x\nlet f = System.Func<_, _> g\nKeyValuePair\nm :?> T\nadam :> Optimiser\nLayers.Net.Conv2d\nmodel.Eval()\nx.narrow(0L, 2L, 8L)\n// 6L in a comment\nlet conv2dL = 1"
            let found = scan sample |> List.map fst
            for token, _ in forbidden do Expect.contains found token $"{token} is found"
            Expect.equal (found |> List.filter (fun t -> t.EndsWith "L")) [ "0L"; "2L"; "8L" ] "int64 literals in code, not in comments or names"
        }
        test "examples and the README's F# blocks show no C#: no struct tuple, Func, KeyValuePair, cast, Layers.Net, Eval() or int64 literal" {
            let hits =
                [ for script in exampleScripts () do
                      for token, line in scan (File.ReadAllText script) -> $"examples/{Path.GetFileName script}:{line}: {token}"
                  for i, block in List.indexed (readmeBlocks ()) do
                      for token, line in scan block -> $"README F# block {i + 1}, line {line}: {token}" ]
            Expect.isEmpty hits ("C# shows through:\n" + String.Join("\n", hits))
        }
        testSequenced (testList "README F# blocks run in fsi against the build" [
            for i, block in List.indexed (readmeBlocks ()) ->
                test $"block {i + 1}" {
                    Files.inTempDir (fun dir ->
                        let script = Path.Combine(dir, $"readme-{i + 1}.fsx")
                        let load = Path.Combine(Repo.root.Value, "examples", "NeuralVision.fsx").Replace("\\", "/")
                        File.WriteAllText(script, $"#load \"{load}\"\n{block}")
                        let code, out, err = runFsi script dir 15.0
                        Expect.equal code 0 $"README F# block {i + 1} failed:\n{block}\n---\n{out}\n{err}")
                }
        ])
        test "layer options are named arguments in plain ints: the same layers as the C# factory's" {
            let pairs : (Layer * Layers.Layer) list =
                [ Layer.Conv2d(6, 5, padding = 2), Layers.Net.Conv2d(6L, 5L, padding = 2L)
                  Layer.Conv2d(64, 3, stride = 2, padding = 1, bias = false), Layers.Net.Conv2d(64L, 3L, stride = 2L, padding = 1L, bias = false)
                  flatten --> Layer.Linear(10, bias = false), flatten --> Layers.Net.Linear(10L, bias = false)
                  Layer.MaxPool(3, stride = 2, padding = 1), Layers.Net.MaxPool(3L, stride = 2L, padding = 1L)
                  Layer.BatchNorm2d(momentum = 0.01), Layers.Net.BatchNorm2d(momentum = 0.01)
                  Layer.Upsample(2, bilinear = true), Layers.Net.Upsample(2L, Layers.UpsampleMode.Bilinear) ]
            for ours, csharp in pairs do
                let a, b = Model.build [ 3; 16; 16 ] ours, Model.build [ 3; 16; 16 ] csharp
                Expect.equal (a.Summary()) (b.Summary()) $"{ours} builds as {csharp}"
        }
        test "optimiser options are named arguments and give Optimiser values equal to the C# records" {
            let pairs : (Optimiser * Optimiser) list =
                [ Optimiser.Adam(1e-3, weightDecay = 1e-2), Optim.Adam(1e-3, WeightDecay = 1e-2)
                  Optimiser.Adam(1e-3, betas = (0.5, 0.9)), Optim.Adam(1e-3, Beta1 = 0.5, Beta2 = 0.9)
                  Optimiser.Sgd(0.1, momentum = 0.9, nesterov = true), Optim.Sgd(0.1, Momentum = 0.9, Nesterov = true)
                  Optimiser.RmsProp(0.01, alpha = 0.9), Optim.RmsProp(0.01, Alpha = 0.9)
                  Optimiser.AdamW(1e-3), Optim.AdamW(1e-3)
                  Optimiser.Rprop(0.01, etas = (0.4, 1.3)), Optim.Rprop(0.01, EtaMinus = 0.4, EtaPlus = 1.3)
                  Optimiser.Adagrad(0.1, lrDecay = 0.01), Optim.Adagrad(0.1, LrDecay = 0.01) ]
            for ours, csharp in pairs do Expect.equal ours csharp "the same optimiser"
        }
        test "Train.run refuses the options only a start can take, naming Train.fit" {
            let model = Model.build [ 2 ] (linear 1)
            let state = Train.start (sgd 0.1) mse model
            let data = Dataset.ofTensors (zeros [ 4; 2 ]) (zeros [ 4; 1 ])
            let e = Expect.throwsC (fun () -> Train.run { Train.quiet with ClipGradNorm = Some 1.0 } (batches 2 data) state |> ignore) id
            Expect.stringContains e.Message "Train.fit" "says where the option goes"
        }
        test "parameter groups through the options: the head moves at its rate, the frozen-rate body not at all" {
            Seed.set 3
            let model = Model.build [ 2 ] (named "body" (linear 4) --> named "head" (linear 1))
            let before = [ for p in model.Parameters -> p.Path, p.Value.clone() ]
            let data = Dataset.ofTensors (randn [ 8; 2 ]) (randn [ 8; 1 ])
            Train.fit { Train.quiet with Groups = [ "head", 0.1; "", 0.0 ] } (sgd 0.1) mse model (batchesInOrder 8 data) |> Seq.head |> ignore
            for p in model.Parameters do
                let old = before |> List.find (fst >> (=) p.Path) |> snd
                let moved = Tensor.item (Tensor.sum (abs (p.Value - old))) > 0.0
                Expect.equal moved (p.Path.StartsWith "head") $"{p.Path} moved: {moved}"
        }
        test "tensor refuses ragged rows and strings, naming where" {
            let e = Expect.throwsC (fun () -> tensor [ [ 1.; 2. ]; [ 3. ] ] |> ignore) id
            Expect.stringContains e.Message "values[1]" "names the row"
            let s = Expect.throwsC (fun () -> tensor [ "a" ] |> ignore) id
            Expect.stringContains s.Message "string" "says what is wrong"
        }
        test "grad refuses a function that does not give one number, and slices out of range are named" {
            let e = Expect.throwsC (fun () -> grad (fun w -> w * 2.0) (tensor [ 1.; 2. ]) |> ignore) id
            Expect.stringContains e.Message "Tensor.sum" "says how to reduce"
            let s = Expect.throwsC (fun () -> (tensor [ 1.; 2. ]).[1..5] |> ignore) id
            Expect.stringContains s.Message "indices 0..1" "names the valid range"
        }
        test "Dataset.split gives an F# pair of disjoint parts; standardise uses the first part's statistics only" {
            // Two classes of ten: the split is stratified, three of each class held out.
            let data = Dataset.ofTensors (tensor [ for i in 0 .. 19 -> [ float i ] ]) (tensor [ for i in 0 .. 19 -> i % 2 ])
            let rest, heldOut = Dataset.split 0.3 0 data
            Expect.equal (Dataset.count rest, Dataset.count heldOut) (14, 6) "70/30"
            let inputs (d: TensorData) = Tensor.toFloats (Tensor.reshape [ -1 ] d.Inputs) |> Set.ofArray
            Expect.equal (Set.union (inputs rest) (inputs heldOut)) (inputs data) "every sample once"
            Expect.isEmpty (Set.intersect (inputs rest) (inputs heldOut)) "disjoint"
            let train, test = Dataset.standardise (rest, heldOut)
            // float32 values: agreement to float32 rounding (1e-6 absolute on values of order 1).
            let float32Close = { absolute = 1e-6; relative = 1e-6 }
            Expect.floatClose float32Close (Tensor.item (Tensor.mean train.Inputs)) 0.0 "the first part is centred"
            // The second part with the first part's mean and deviation, by hand.
            let values (d: TensorData) = Tensor.values d.Inputs
            let mean, std = Array.average (values rest), Tensor.item (TorchSharp.torch.tensor(values rest).std())
            let expected = (Array.average (values heldOut) - mean) / std
            Expect.floatClose float32Close (Tensor.item (Tensor.mean test.Inputs)) expected "the second is scaled with the first's statistics"
        }
        test "Model.predict answers in evaluation mode and leaves a training model training" {
            Seed.set 4
            let model = Model.build [ 4 ] (linear 8 --> dropout 0.5 --> linear 2)
            let x = randn [ 16; 4 ]
            let a, b = Model.predict model x, Model.predict model x
            Expect.isTrue (Tensor.item (Tensor.sum (abs (a - b))) = 0.0) "no dropout: the same answer twice"
            Expect.isTrue model.IsTraining "the model's mode is untouched"
        }
    ]
