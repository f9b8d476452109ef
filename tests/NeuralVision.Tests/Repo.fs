/// Paths in the repository and running other programs from tests.
module NeuralVision.Tests.Repo

open System
open System.Diagnostics
open System.IO

/// The repository root: the nearest folder above the test program holding NeuralVision.sln.
let root =
    lazy (
        let rec up (dir: DirectoryInfo) =
            if isNull dir then failwith "NeuralVision.sln not found above the test program"
            elif File.Exists(Path.Combine(dir.FullName, "NeuralVision.sln")) then dir.FullName
            else up dir.Parent
        up (DirectoryInfo AppContext.BaseDirectory))

/// The build configuration this test program was built in (Debug or Release), read from its path.
let configuration =
    if AppContext.BaseDirectory.Contains $"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}" then "Release" else "Debug"

/// Runs a program to its end (at most `minutes`); returns (exit code, stdout, stderr).
let rec runProgram (program: string) (args: string list) (env: (string * string) list) (minutes: float) : int * string * string =
    let info = ProcessStartInfo(program)
    for a in args do info.ArgumentList.Add a
    for (k, v) in env do info.Environment.[k] <- v
    runInfo info minutes

/// Runs a prepared process to its end (at most `minutes`); returns (exit code, stdout, stderr).
and runInfo (info: ProcessStartInfo) (minutes: float) : int * string * string =
    info.RedirectStandardOutput <- true
    info.RedirectStandardError <- true
    info.UseShellExecute <- false
    use p = Process.Start info
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()
    if not (p.WaitForExit(TimeSpan.FromMinutes minutes)) then
        p.Kill true
        failwithf "%s %s did not finish in %g minutes" info.FileName (String.Join(" ", info.ArgumentList)) minutes
    p.ExitCode, out.Result, err.Result

/// The line `result: NAME = VALUE` an example prints last, as (NAME, VALUE).
let resultLine (output: string) : (string * string) option =
    output.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
    |> Array.tryFindBack (fun l -> l.StartsWith "result: ")
    |> Option.map (fun l ->
        let body = l.Substring("result: ".Length)
        let i = body.IndexOf " = "
        body.Substring(0, i), body.Substring(i + 3))
