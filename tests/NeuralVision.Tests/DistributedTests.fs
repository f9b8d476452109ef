/// Data-parallel training over Open MPI on this machine: the same arithmetic as one process (SGD, Adam), BatchNorm per
/// rank, a rank killed mid-run, and ranks that disagree. Each test starts real ranks with mpirun (installed when missing).
module NeuralVision.Tests.DistributedTests

open System
open System.IO
open Expecto
open NeuralVision.Distributed

let private work = lazy (Directory.CreateTempSubdirectory("nv-ranks-").FullName)
let private nvDll () = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")

/// mpirun as `./nv train --ranks` starts it (Open MPI installed first if missing), over `program args`.
let private mpirun (ranks: int) (program: string) (args: string list) (minutes: float) =
    Repo.runInfo (OpenMpi.Command(ranks, program, args)) minutes

let private floats (path: string) =
    let bytes = File.ReadAllBytes path
    Array.init (bytes.Length / 4) (fun i -> BitConverter.ToSingle(bytes, 4 * i))

let private largestDifference (a: float32[]) (b: float32[]) =
    Expect.equal a.Length b.Length "the same number of values"
    Array.map2 (fun (x: float32) y -> abs (float x - float y)) a b |> Array.max

/// fixtures/data-parallel.fsx run by one process and by 2 ranks under mpirun: (output folder, the ranks' stdout).
let private dataParallel =
    lazy (
        let out = Path.Combine(work.Value, "data-parallel")
        Directory.CreateDirectory out |> ignore
        let script = Path.Combine(Repo.root.Value, "tests", "NeuralVision.Tests", "fixtures", "data-parallel.fsx")
        let code, stdout, err = Repo.runProgram "dotnet" [ "fsi"; "--quiet"; script; out ] [] 5.0
        if code <> 0 then failtest $"one process failed:\n{stdout}\n{err}"
        let code, stdout, err = mpirun 2 "dotnet" [ "fsi"; "--quiet"; script; out ] 5.0
        if code <> 0 then failtest $"two ranks failed:\n{stdout}\n{err}"
        out, stdout)

let private weights (case: string) (ranks: int) (rank: int) =
    let out, _ = dataParallel.Value
    floats (Path.Combine(out, $"{case}-{ranks}ranks-rank{rank}.bin"))

/// The pid of the rank `rank` among the processes whose command line holds `marker`.
let private rankProcess (rank: int) (marker: string) =
    Directory.GetDirectories "/proc"
    |> Array.tryPick (fun dir ->
        try
            let commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\000', ' ')
            let environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\000')
            if commandLine.Contains marker && Array.contains $"OMPI_COMM_WORLD_RANK={rank}" environment then Some(int (Path.GetFileName dir)) else None
        with _ -> None)

let tests =
    testSequenced <| testList "data parallel (Open MPI)" [
        test "2 ranks on batches of b/2 end with the weights of 1 process on batches of b, with SGD and with Adam" {
            for case in [ "sgd"; "adam" ] do
                let difference = largestDifference (weights case 2 0) (weights case 1 0)
                // Measured: 6.0e-8 (SGD) and 8.2e-8 (Adam) after 16 steps: the float sums of the gradient split differently.
                Expect.isLessThan difference 1e-6 $"{case}: largest weight difference {difference:G3}"
                Expect.isGreaterThan (Array.sumBy abs (weights case 1 0)) 0.0f "the weights are real numbers, not zeros"
        }
        test "every rank holds the same weights and reports the same epoch losses" {
            let out, _ = dataParallel.Value
            for case in [ "sgd"; "adam"; "batchnorm"; "batchnorm-buffers" ] do
                Expect.equal (weights case 2 1) (weights case 2 0) $"{case}: rank 1 equals rank 0 to the bit"
            for case in [ "sgd"; "adam"; "batchnorm" ] do
                let losses rank = File.ReadAllText(Path.Combine(out, $"{case}-losses-2ranks-rank{rank}.txt"))
                Expect.equal (losses 1) (losses 0) $"{case}: both ranks report the same epoch losses"
                Expect.equal ((losses 0).Split ' ').Length 2 "two epochs"
        }
        test "with BatchNorm each rank normalises its own share: 2 ranks equal 1 process on ghost batches of b/2, not on batches of b" {
            let twoRanks = weights "batchnorm" 2 0
            let ghost = largestDifference twoRanks (weights "batchnorm-ghost" 1 0)
            let whole = largestDifference twoRanks (weights "batchnorm" 1 0)
            Expect.isLessThan ghost 1e-6 $"per-rank statistics: like ghost batches of b/2 (difference {ghost:G3})"
            Expect.isGreaterThan whole 1e-4 $"not like one batch of b (difference {whole:G3})"
        }
        test "a rank killed with SIGKILL stops the others within seconds, naming it; the last checkpoint is intact and 2 ranks resume from it to the uninterrupted run's figures" {
            let data = Path.Combine(RunTests.fashionTree.Value, "train")
            let straight = Path.Combine(work.Value, "straight")
            let code, out, err = RunTests.nv (RunTests.lenetArgs data straight 4 @ [ "--ranks"; "2" ]) 10.0
            Expect.equal code 0 $"the uninterrupted run on 2 ranks:\n{out}\n{err}"
            let dir = Path.Combine(work.Value, "killed")
            let info = Diagnostics.ProcessStartInfo("dotnet", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
            for a in nvDll () :: RunTests.lenetArgs data dir 4 @ [ "--ranks"; "2" ] do info.ArgumentList.Add a
            use launcher = Diagnostics.Process.Start info
            let errors = Collections.Concurrent.ConcurrentQueue<string>()
            launcher.OutputDataReceived.Add ignore
            launcher.ErrorDataReceived.Add(fun e -> if not (isNull e.Data) then errors.Enqueue e.Data)
            launcher.BeginOutputReadLine()
            launcher.BeginErrorReadLine()
            let clock = Diagnostics.Stopwatch.StartNew()
            while not (File.Exists(Path.Combine(dir, "state.nvck"))) && not launcher.HasExited && clock.Elapsed < TimeSpan.FromMinutes 5.0 do
                Threading.Thread.Sleep 20
            Expect.isFalse launcher.HasExited "the run was still going after epoch 1's checkpoint"
            let victim = rankProcess 1 dir
            Expect.isSome victim "rank 1 found"
            Diagnostics.Process.GetProcessById(victim.Value).Kill()
            let stopping = Diagnostics.Stopwatch.StartNew()
            let stopped = launcher.WaitForExit(TimeSpan.FromSeconds 60.0)
            let seconds = stopping.Elapsed.TotalSeconds
            Expect.isTrue stopped "the job stopped"
            launcher.WaitForExit()
            Expect.isLessThan seconds 10.0 $"stopped {seconds:F1} s after the kill"
            Expect.notEqual launcher.ExitCode 0 "the job failed"
            let said = String.Join("\n", errors)
            Expect.stringContains said "rank 1 of 2 died (signal 9)" "names the rank"
            Expect.isNone (rankProcess 0 dir) "rank 0 is gone too"
            let epoch, _ = NeuralVision.Training.Checkpoint.Progress(Path.Combine(dir, "state.nvck")) |> fun struct (e, s) -> e, s
            Expect.isLessThan epoch 4 "the kill came before the end"
            Expect.stringContains said $"after epoch {epoch}" "says where to resume from"
            let code, out, err = RunTests.nv [ "train"; "--out"; dir; "--resume"; "--ranks"; "2" ] 10.0
            Expect.equal code 0 $"resumed:\n{out}\n{err}"
            let figures (line: string) = line.Split ',' |> Array.take 5
            Expect.equal (RunTests.metrics dir |> Array.map figures) (RunTests.metrics straight |> Array.map figures) "epochs 1-4 as in the uninterrupted run"
        }
        test "ranks with different data are refused before training, naming the rank and what differs" {
            let data = Path.Combine(RunTests.fashionTree.Value, "train")
            let fewer = Path.Combine(work.Value, "fewer")
            for classDir in Directory.GetDirectories data do
                let target = Path.Combine(fewer, Path.GetFileName classDir)
                Directory.CreateDirectory target |> ignore
                for file in Directory.GetFiles classDir |> Array.sort |> Array.truncate 20 do File.Copy(file, Path.Combine(target, Path.GetFileName file), true)
            let dir = Path.Combine(work.Value, "disagreeing")
            // Open MPI's MPMD form: a command line per rank, joined by ':'.
            let train data = [ nvDll (); "train"; "--data"; data; "--arch"; "lenet"; "--out"; dir ]
            let info = OpenMpi.Command(1, "dotnet", train data @ [ ":"; "-np"; "1"; "dotnet" ] @ train fewer)
            let clock = Diagnostics.Stopwatch.StartNew()
            let code, out, err = Repo.runInfo info 5.0
            Expect.notEqual code 0 $"refused:\n{out}\n{err}"
            Expect.stringContains err "the ranks disagree before training: on rank 1 the number of images is 200, on rank 0 it is 1000" "names the rank and the difference"
            Expect.isFalse (File.Exists(Path.Combine(dir, "state.nvck"))) $"no training happened ({clock.Elapsed.TotalSeconds:F1} s)"
        }
        test "a C# program (the LeNet example, Trainer.Ranks) on 2 ranks prints the figures of 1 process, once" {
            let dll = Path.Combine(Repo.root.Value, "examples", "CSharp", "LeNet", "bin", Repo.configuration, "net10.0", "NeuralVision.Examples.LeNet.dll")
            let code, alone, err = Repo.runProgram "dotnet" [ dll; "quick" ] [] 5.0
            Expect.equal code 0 err
            let code, together, err = mpirun 2 "dotnet" [ dll; "quick" ] 5.0
            Expect.equal code 0 err
            // Epoch lines without their times: loss, val_loss and accuracy to 4 digits.
            let figures (output: string) =
                [ for line in output.Split('\n') do
                    let i = line.IndexOf "epoch "
                    if i >= 0 then yield line.Substring(i, line.LastIndexOf " (" - i)
                    elif line.Contains "result: " then yield line.Substring(line.IndexOf "result: ") ]
            Expect.equal (figures together) (figures alone) "the same epochs and result, printed by rank 0 only"
            Expect.equal (figures alone).Length 7 "six epochs and a result"
        }
        test "ranks that built different models are refused before training, naming the rank and what differs" {
            let script = Path.Combine(Repo.root.Value, "tests", "NeuralVision.Tests", "fixtures", "data-parallel.fsx")
            let code, out, err = mpirun 2 "dotnet" [ "fsi"; "--quiet"; script; work.Value; "mismatch" ] 5.0
            Expect.notEqual code 0 "refused"
            Expect.stringContains (out + err) "the ranks disagree before training: on rank 1 the model's number of weights is" "names the rank and the difference"
            Expect.isFalse ((out + err).Contains "trained with different models") "no step was taken"
        }
        test "a batch that the ranks cannot share evenly is refused, saying what to choose" {
            let data = Path.Combine(RunTests.fashionTree.Value, "train")
            let code, _, err = RunTests.nv (RunTests.lenetArgs data (Path.Combine(work.Value, "odd")) 1 @ [ "--batch"; "33"; "--ranks"; "2" ]) 5.0
            Expect.notEqual code 0 "refused"
            Expect.stringContains err "--batch 33 cannot be shared evenly by 2 ranks; use a multiple of 2" "says why and what to do"
        }
    ]
