/// Bad input gets one clear error: wrong models, corrupted files (fuzzed), bad command lines, batches
/// too large for memory.
module NeuralVision.Tests.ReliabilityTests

open System
open System.IO
open System.IO.Compression
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Layers
open NeuralVision.Tests.Files

let private shapeError input layer =
    try
        Model.outputShape input layer |> ignore
        failtest $"{layer} on {input} should not build"
    with :? ShapeException as e -> e

/// Wrong models beyond those in LayerTests: (input, model, path, got, a phrase of what it needed).
let private wrongModels =
    [ [ 3; 32; 32 ], Net.Conv2d(8L, 3L, inChannels = 1L), "", "3x32x32", "1 input channels"
      [ 1; 28; 28 ], (flatten --> Net.Linear(10L, inFeatures = 748L)), "1", "784", "748 input features"
      [ 4; 8; 8 ], (conv2dSame 6 3 --> pixelShuffle 2), "1", "6x8x8", "channels divisible by 4"
      [ 6; 8; 8 ], Net.Conv2d(4L, 3L, groups = 4L), "", "6x8x8", "divisible by groups=4"
      [ 10 ], batchNorm2d, "", "10", "[channels, height, width]"
      [ 10 ], dropout2d 0.3, "", "10", "[channels, height, width]"
      [ 3; 8; 8 ], (flatten --> reshape [ 5; 5 ]), "1", "192", "25 values"
      [ 3; 16; 16 ], skip (maxPool 2), "", "3x16x16", "keeps [height, width]"
      [ 1; 28; 28 ], (conv2d 4 5 --> maxPool 2 --> linear 10), "2", "4x12x12", "flat [features]"
      [ 2; 4; 4 ], residual (conv2d 2 3), "", "2x4x4", "the body gives 2x2x2" ]

let shapeTests =
    testList "wrong models fail at build time, naming path, got and needed" [
        for input, layer, path, got, needed in wrongModels do
            test $"{layer} on {input}" {
                let e = shapeError input layer
                Expect.equal e.Path path "the layer's path"
                Expect.equal (string e.Got) got "the shape it got"
                Expect.stringContains e.Message needed "what it needed"
            }
    ]

/// A corruption of a byte array: flip a bit, cut the end, or insert bytes.
type Corruption =
    | Flip of position: int * bit: int
    | Cut of length: int
    | Insert of position: int * bytes: byte[]

let private corrupt (bytes: byte[]) corruptions =
    corruptions |> List.fold (fun (b: byte[]) c ->
        match c with
        | Flip (p, bit) when b.Length > 0 -> let copy = Array.copy b in copy.[p % b.Length] <- copy.[p % b.Length] ^^^ (1uy <<< (bit % 8)); copy
        | Flip _ -> b
        | Cut n -> b.[.. (min b.Length n) - 1]
        | Insert (p, extra) -> let at = if b.Length = 0 then 0 else p % (b.Length + 1) in Array.concat [ b.[.. at - 1]; extra; b.[at ..] ]) bytes

let private genCorruptions (size: int) =
    Gen.listOf (Gen.oneof [
        Gen.map2 (fun p b -> Flip (p, b)) (Gen.choose (0, 100000)) (Gen.choose (0, 7))
        Gen.map Cut (Gen.choose (0, size))
        Gen.map2 (fun p n -> Insert (p, n)) (Gen.choose (0, 100000)) (Gen.arrayOfLength 3 (Gen.choose (0, 255) |> Gen.map byte)) ])
    |> Gen.map (List.truncate 4)

/// Only the library's own error escapes: anything else (IndexOutOfRange, overflow…) fails the property.
let private onlyDataErrors (parse: unit -> unit) =
    try parse (); true
    with :? DataException -> true

let private fuzz name (valid: byte[]) (parse: byte[] -> unit) =
    testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 10000 } name <|
        Prop.forAll (Arb.fromGen (genCorruptions valid.Length)) (fun corruptions -> onlyDataErrors (fun () -> parse (corrupt valid corruptions)))

let private idx = Array.append [| 0uy; 0uy; 8uy; 3uy; 0uy; 0uy; 0uy; 3uy; 0uy; 0uy; 0uy; 4uy; 0uy; 0uy; 0uy; 4uy |] [| for i in 1 .. 48 -> byte i |]
let private cifar = Array.concat [ for label in [ 1uy; 7uy ] -> Array.append [| label |] (Array.init 3072 byte) ]
let private csv = Text.Encoding.UTF8.GetBytes "a,b,kind\n1.5,2,x\n3,4e2,y\n-5,6,x\n"
let private sklearn = Text.Encoding.UTF8.GetBytes "3,2,one,two\n1,2,0\n3,4,1\n5,6,0\n"

let fuzzTests =
    testList "fuzzed readers raise nothing but DataException (10,000 cases each)" [
        fuzz "IDX, plain" idx (fun b -> Idx.Parse(b, "fuzz.idx") |> ignore)
        fuzz "IDX, gzipped" (gz idx) (fun b -> Idx.Parse(Idx.Ungzip(b, "fuzz.idx.gz"), "fuzz.idx.gz") |> ignore)
        fuzz "CIFAR binary" cifar (fun b -> Cifar.Parse(b, "fuzz.bin", Cifar.Classes10) |> ignore)
        fuzz "CSV with a target column" csv (fun b -> Csv.Parse(Text.Encoding.UTF8.GetString b, "fuzz.csv", "kind") |> ignore)
        fuzz "scikit-learn CSV" sklearn (fun b -> Csv.ParseSklearn(Text.Encoding.UTF8.GetString b, "fuzz.csv") |> ignore)
        test "the valid inputs do parse (so the properties test corruptions, not a broken base)" {
            Expect.equal (Idx.Parse(idx, "x").Shape) [| 3; 4; 4 |] "IDX"
            Expect.equal (Cifar.Parse(cifar, "x", Cifar.Classes10)).Count 2 "CIFAR"
            Expect.equal (Csv.Parse(Text.Encoding.UTF8.GetString csv, "x", "kind")).Rows 3 "CSV"
            Expect.equal (Csv.ParseSklearn(Text.Encoding.UTF8.GetString sklearn, "x")).Rows 3 "sklearn CSV"
        }
    ]

let private nv (args: string list) =
    let dll = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")
    Repo.runProgram "dotnet" (dll :: args) [] 2.0

let cliTests =
    testList "the command line rejects bad arguments with usage and exit code 2" [
        for args, says in
            [ [ "summary"; "resnet99" ], "unknown model"
              [ "demo"; "--epochs"; "-1" ], "--epochs must be at least 1"
              [ "shape"; "--input"; "1xAx32x32"; "--out-channels"; "6"; "--kernel"; "5" ], "not a shape"
              [ "data"; "describe"; "/nonexistent/data.csv" ], "neither a known data set"
              [ "summary"; "lenet"; "--classes"; "0" ], "--classes must be at least 1"
              [ "bench"; "--rounds"; "0" ], "--rounds must be at least 1"
              [ "run"; "99-nothing" ], "no example" ] do
            test (String.Join(" ", args)) {
                let code, out, err = nv args
                Expect.equal code 2 $"exit code (stdout: {out})"
                Expect.stringContains err says "the message says what is wrong"
                Expect.stringContains err "--help" "and shows the usage"
            }
        for command in [ "run"; "test"; "bench" ] do
            test $"{command}, started outside the repository without NV_ROOT, says how to point at the repository" {
                let outside = Directory.CreateTempSubdirectory "nv-outside-"
                try
                    let dll = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")
                    let info = Diagnostics.ProcessStartInfo("dotnet", WorkingDirectory = outside.FullName)
                    for a in [ dll; command; "lenet" ] do info.ArgumentList.Add a
                    info.Environment.Remove "NV_ROOT" |> ignore
                    let code, out, err = Repo.runInfo info 2.0
                    Expect.equal code 2 $"exit code (stdout: {out}, stderr: {err})"
                    Expect.stringContains err "is not the NeuralVision repository" "the message says what is wrong"
                    Expect.stringContains err "NV_ROOT" "and how to put it right"
                    Expect.isFalse (err.Contains "Exception") $"no stack trace: {err}"
                finally outside.Delete true
            }
    ]

let memoryTests =
    testList "resources" [
        test "a batch too large for memory ends in a message suggesting a smaller batch" {
            let model = Model.build [ 1; 28; 28 ] (upsample 4000 --> globalAvgPool --> linear 1)
            let state = Training.Train.Start(model, Optim.Sgd(0.1), Losses.Loss.Mse())
            let e = Expect.throwsC (fun () -> Training.Train.Step(state, new Data.Batch(torch.zeros(64L, 1L, 28L, 28L), torch.zeros(64L, 1L))) |> ignore) id
            match e with
            | :? Training.BatchTooLargeException as b ->
                Expect.equal b.BatchSize 64L "names the batch size"
                Expect.stringContains b.Message "smaller batch" "says what to do"
            | other -> failtest $"expected BatchTooLargeException, got {other.GetType().Name}: {other.Message}"
        }
    ]

let tests = testList "reliability" [ shapeTests; fuzzTests; cliTests; memoryTests ]
