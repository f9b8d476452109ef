// What every lesson shares: NeuralVision, the quick switch, where pictures go, and the result line.
#load "NeuralVision.fsx"

open System.IO

/// `dotnet fsi examples/NN-topic.fsx quick` (or `./nv run TOPIC --quick`) runs a reduced form.
let quick = fsi.CommandLineArgs |> Array.contains "quick"

/// The value for the full run, or for the quick one.
let pick (full: 'T) (reduced: 'T) = if quick then reduced else full

/// out/TOPIC/NAME, the folder created.
let picture (topic: string) (name: string) =
    let dir = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", "out", topic))
    Directory.CreateDirectory dir |> ignore
    Path.Combine(dir, name)

/// The lesson's headline figure, printed as its last line: `result: NAME = VALUE`.
let result (name: string) (value: float) = printfn "result: %s = %.4f" name value
