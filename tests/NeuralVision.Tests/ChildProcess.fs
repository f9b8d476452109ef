/// Runs this test program again as a child process in a named mode, for checks that need a fresh
/// process (native loading from scratch, determinism across processes, crashes).
module NeuralVision.Tests.ChildProcess

open System
open System.Diagnostics
open System.Reflection

/// The first argument that switches the test program into child mode.
let [<Literal>] Flag = "--child"

/// Runs `<this test program> --child mode args…` with extra environment variables; returns (exit code, stdout, stderr).
let run (mode: string) (args: string list) (env: (string * string) list) : int * string * string =
    let host = Environment.ProcessPath
    let self = Assembly.GetEntryAssembly().Location
    let info = ProcessStartInfo(host, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    // Run through `dotnet X.dll` when this process was started that way, else through the apphost.
    if IO.Path.GetFileNameWithoutExtension host = "dotnet" then info.ArgumentList.Add self
    for a in Flag :: mode :: args do info.ArgumentList.Add a
    for (k, v) in env do info.Environment.[k] <- v
    use p = Process.Start info
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()
    if not (p.WaitForExit(TimeSpan.FromMinutes 5.)) then
        p.Kill true
        failwithf "child %s did not finish in 5 minutes" mode
    p.ExitCode, out.Result, err.Result
