/// The PyTorch baseline (C): Debian's python3-torch with OpenBLAS (OpenMP) put first for the process,
/// installed or unpacked with apt when possible; reported missing otherwise.
module NeuralVision.Bench.PyTorch

open System
open System.Diagnostics
open System.IO
open System.Text.Json

let private python = "/usr/bin/python3"

let private run (program: string) (args: string list) (env: (string * string) list) =
    let info = ProcessStartInfo(program, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    for a in args do info.ArgumentList.Add a
    for k, v in env do info.Environment.[k] <- v
    try
        use p = Process.Start info
        let out = p.StandardOutput.ReadToEndAsync()
        let err = p.StandardError.ReadToEndAsync()
        p.WaitForExit()
        p.ExitCode, out.Result, err.Result
    with :? ComponentModel.Win32Exception as e -> 127, "", e.Message

let private hasTorch () = File.Exists python && (let code, _, _ = run python [ "-c"; "import torch" ] [] in code = 0)

/// The OpenBLAS folder to put first in LD_LIBRARY_PATH, unpacked under .nv/openblas; None when it cannot be had.
let private openBlas (root: string) =
    let target = Path.Combine(root, ".nv", "openblas")
    let lib = Path.Combine(target, "usr", "lib", "x86_64-linux-gnu", "openblas-openmp")
    if Directory.Exists lib then Some lib
    else
        // apt-get download writes into its working folder.
        let work = Directory.CreateTempSubdirectory("nv-openblas-").FullName
        try
            let info = ProcessStartInfo("apt-get", WorkingDirectory = work, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true)
            info.ArgumentList.Add "download"
            info.ArgumentList.Add "libopenblas0-openmp"
            (try (use p = Process.Start info in p.WaitForExit()) with :? ComponentModel.Win32Exception -> ())
            match Directory.GetFiles(work, "*.deb") |> Array.tryHead with
            | Some deb ->
                let code, _, _ = run "dpkg-deb" [ "-x"; deb; target ] []
                if code = 0 && Directory.Exists lib then Some lib else None
            | None -> None
        finally
            Directory.Delete(work, true)

/// Makes PyTorch available (apt-get install python3-torch as root when missing); returns the environment to run it in, or the reason it is missing.
let prepare (root: string) : Result<(string * string) list, string> =
    if not (hasTorch ()) && Environment.UserName = "root" && File.Exists "/usr/bin/apt-get" then
        printfn "C: installing Debian's python3-torch for the PyTorch baseline (apt-get)..."
        run "apt-get" [ "install"; "-y"; "--no-install-recommends"; "python3-torch" ] [ "DEBIAN_FRONTEND", "noninteractive" ] |> ignore
    if not (hasTorch ()) then Error "PyTorch (python3-torch) is not installed and could not be installed"
    else
        match openBlas root with
        | Some lib -> Ok [ "LD_LIBRARY_PATH", lib + (match Environment.GetEnvironmentVariable "LD_LIBRARY_PATH" with null | "" -> "" | p -> ":" + p) ]
        | None -> Ok [] // the reference BLAS: slower, and said so in the output

/// One PyTorch run: a warm-up epoch then one measured epoch, the MLP steps and inference.
let measure (root: string) (env: (string * string) list) (data: string) (threads: int) : JsonElement option =
    let script = Path.Combine(root, "bench", "pytorch", "lenet.py")
    let code, out, err = run python [ script; "--data"; data; "--threads"; string threads ] env
    if code <> 0 then
        eprintfn "C: the PyTorch run failed: %s" (err.Split('\n') |> Array.filter ((<>) "") |> Array.tryLast |> Option.defaultValue "")
        None
    else Some (JsonDocument.Parse(out.Trim()).RootElement.Clone())
