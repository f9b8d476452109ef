/// `nv train … --ranks N`: the same command started on N ranks by mpirun (installed when missing, allowed to run as
/// root); when a rank dies, the run says which, and how to go on from the last complete checkpoint.
module NeuralVision.Cli.RankLauncher

open System
open System.Diagnostics
open System.IO
open System.Text.RegularExpressions
open NeuralVision.Distributed

/// The command line without the launcher's own options (`--ranks N`, `--hostfile FILE`), for the ranks to run.
let forRanks (argv: string list) : string list =
    let rec strip =
        function
        | ("--ranks" | "--hostfile") :: _ :: rest -> strip rest
        | a :: rest when a.StartsWith "--ranks=" || a.StartsWith "--hostfile=" -> strip rest
        | a :: rest -> a :: strip rest
        | [] -> []
    strip argv

// mpirun's report of a rank that died: "mpirun noticed that process rank 1 with PID 123 on node x exited on signal 9 (Killed)."
let private deathReport = Regex(@"process rank (\d+) with PID \d+ on node \S+ exited on signal (\d+)", RegexOptions.Compiled)

/// Runs mpirun as `info` says to its end, passing its errors on; returns its exit code and the rank that died, with
/// its signal, if one did.
let private supervise (info: ProcessStartInfo) : int * (int * int) option =
    info.RedirectStandardError <- true
    let died = Collections.Concurrent.ConcurrentQueue<int * int>()
    use mpirun = new Process(StartInfo = info)
    mpirun.ErrorDataReceived.Add(fun line ->
        if not (isNull line.Data) then
            eprintfn "%s" line.Data
            let m = deathReport.Match line.Data
            if m.Success then died.Enqueue(int m.Groups.[1].Value, int m.Groups.[2].Value))
    mpirun.Start() |> ignore
    mpirun.BeginErrorReadLine()
    mpirun.WaitForExit()
    match died.TryPeek() with
    | true, death -> max 1 mpirun.ExitCode, Some death
    | _ -> mpirun.ExitCode, None

/// Runs `nv <argv>` on `ranks` ranks and returns mpirun's exit code; `checkpoint` is where the run keeps its state.
let launch (ranks: int) (hostFile: string option) (argv: string list) (checkpoint: string) : int =
    let nv = Reflection.Assembly.GetEntryAssembly().Location
    match supervise (OpenMpi.Command(ranks, Environment.ProcessPath, nv :: forRanks argv, Option.toObj hostFile)) with
    | code, Some (rank, signal) ->
        let resume =
            if File.Exists checkpoint then
                let epoch, _ = NeuralVision.Training.Checkpoint.Progress checkpoint |> fun struct (e, s) -> e, s
                $"The last complete checkpoint, {checkpoint}, is after epoch {epoch}: continue with the same command and --resume (and --ranks {ranks})."
            else "No epoch had finished, so there is no checkpoint to resume: start the run again."
        eprintfn "nv: rank %d of %d died (signal %d), so mpirun stopped the other ranks. %s" rank ranks signal resume
        code
    | code, None -> code

/// `nv mpirun ARGS…`: Open MPI's mpirun with the arguments as given (installed when missing, allowed to run as root),
/// for `./nv mpirun -np 2 ./nv train …` or `./nv mpirun -np 2 dotnet fsi script.fsx`.
let mpirun (args: string list) : int =
    match supervise (OpenMpi.Mpirun args) with
    | code, Some (rank, signal) ->
        eprintfn "nv: rank %d died (signal %d), so mpirun stopped the other ranks." rank signal
        code
    | code, None -> code
