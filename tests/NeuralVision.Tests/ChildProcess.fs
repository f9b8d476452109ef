/// Runs this test program again as a child process in a named mode, for checks that need a fresh
/// process (native loading from scratch, determinism across processes, crashes).
module NeuralVision.Tests.ChildProcess

open System
open System.IO
open System.Reflection

/// The first argument that switches the test program into child mode.
let [<Literal>] Flag = "--child"

/// Runs `<this test program> --child mode args…` with extra environment variables; returns (exit code, stdout, stderr).
let run (mode: string) (args: string list) (env: (string * string) list) : int * string * string =
    let host = Environment.ProcessPath
    // Through `dotnet X.dll` when this process was started that way, else through the apphost.
    let self = if Path.GetFileNameWithoutExtension host = "dotnet" then [ Assembly.GetEntryAssembly().Location ] else []
    Repo.runProgram host (self @ Flag :: mode :: args) env 5.0
