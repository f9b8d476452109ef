/// `nv run TOPIC|all [--quick]`: runs the course's example scripts with dotnet fsi.
module NeuralVision.Cli.Examples

open System
open System.Diagnostics
open System.IO

/// The example scripts, in course order: examples/NN-topic.fsx.
let scripts (root: string) =
    Directory.GetFiles(Path.Combine(root, "examples"), "??-*.fsx")
    |> Array.filter (fun f -> Path.GetFileName(f).[..1] |> Seq.forall Char.IsDigit)
    |> Array.sort
    |> List.ofArray

/// The scripts a topic names: "02", "regression", "02-regression" or "all".
let find (root: string) (topic: string) =
    let all = scripts root
    if topic = "all" then all
    else
        all |> List.filter (fun s ->
            let name = Path.GetFileNameWithoutExtension s
            name = topic || name.StartsWith(topic + "-") || name.Substring(3) = topic)

/// Runs one script to its end, its output passed through; returns (exit code, its result line, seconds).
let runOne (script: string) (quick: bool) =
    let info = ProcessStartInfo("dotnet", UseShellExecute = false, RedirectStandardOutput = true)
    for a in [ "fsi"; "--quiet"; script ] @ (if quick then [ "quick" ] else []) do info.ArgumentList.Add a
    // The runtime settings nv itself runs with (Directory.Build.targets: no background re-compiling or GC thread
    // taking a core from libtorch's OpenMP threads), unless the caller chose otherwise.
    for name in [ "DOTNET_TieredCompilation"; "DOTNET_gcConcurrent" ] do
        if not (info.Environment.ContainsKey name) then info.Environment[name] <- "0"
    let clock = Stopwatch.StartNew()
    use p = Process.Start info
    let mutable last = ""
    let mutable line = p.StandardOutput.ReadLine()
    while not (isNull line) do
        printfn "%s" line
        if line.StartsWith "result: " then last <- line
        line <- p.StandardOutput.ReadLine()
    p.WaitForExit()
    p.ExitCode, last, clock.Elapsed.TotalSeconds

/// Runs the topic's scripts; prints a table of results for more than one; exit code 1 when any failed.
let run (root: string) (topic: string) (quick: bool) (usage: string -> int) : int =
    match find root topic with
    | [] ->
        let known = String.Join(", ", scripts root |> List.map Path.GetFileNameWithoutExtension)
        usage $"no example '{topic}'; the examples are: {known}, or all."
    | chosen ->
        let outcomes = [ for script in chosen -> Path.GetFileNameWithoutExtension script, runOne script quick ]
        if chosen.Length > 1 then
            printfn ""
            for (name, (code, result, seconds)) in outcomes do
                printfn "%-22s %6.1f s  %s" name seconds (if code = 0 then result else $"FAILED (exit {code})")
            printfn "total %.1f s" (outcomes |> List.sumBy (fun (_, (_, _, s)) -> s))
        if outcomes |> List.forall (fun (_, (code, result, _)) -> code = 0 && result <> "") then 0 else 1
