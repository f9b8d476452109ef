/// The `nv` program as a user calls it (its build from the same solution build as these tests).
module NeuralVision.Tests.CliTests

open System.IO
open Expecto

let private nv (args: string list) =
    let dll = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")
    if not (File.Exists dll) then failtest $"{dll} is not built; build the solution ({Repo.configuration}) first"
    Repo.runProgram "dotnet" (dll :: args) [] 2.0

let tests =
    testList "nv command line" [
        test "nv shape prints the course's calc_out_shape" {
            let code, out, err = nv [ "shape"; "--input"; "1x1x32x32"; "--out-channels"; "6"; "--kernel"; "5"; "--stride"; "1"; "--padding"; "0" ]
            Expect.equal code 0 err
            Expect.equal (out.Trim()) "1x6x28x28" "output shape"
        }
        test "a malformed shape is a usage error: exit code 2, message on stderr" {
            let code, out, err = nv [ "shape"; "--input"; "1x1x32"; "--out-channels"; "6"; "--kernel"; "5" ]
            Expect.equal code 2 "usage error"
            Expect.stringContains err "N x C x H x W" "says what is wrong"
            Expect.equal (out.Trim()) "" "nothing on stdout"
        }
        test "an unknown command is a usage error" {
            let code, _, err = nv [ "frobnicate" ]
            Expect.equal code 2 "usage error"
            Expect.stringContains err "frobnicate" "names it"
        }
        test "nv run gives its scripts nv's runtime settings (no tiered re-compiling, no background GC thread) unless the caller chose" {
            // A folder that passes for the repository, with one example that prints what it runs with.
            let root = Directory.CreateTempSubdirectory("nv-run-settings-").FullName
            try
                File.WriteAllText(Path.Combine(root, "nv"), "")
                Directory.CreateDirectory(Path.Combine(root, "examples")) |> ignore
                File.WriteAllText(Path.Combine(root, "examples", "01-probe.fsx"),
                    "printfn \"result: %s %O\" (System.Environment.GetEnvironmentVariable \"DOTNET_TieredCompilation\") System.Runtime.GCSettings.LatencyMode")
                let probe (callerSets: (string * string) list) =
                    let dll = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")
                    let info = System.Diagnostics.ProcessStartInfo("dotnet")
                    for a in [ dll; "run"; "probe" ] do info.ArgumentList.Add a
                    info.Environment.["NV_ROOT"] <- root
                    for name in [ "DOTNET_TieredCompilation"; "DOTNET_gcConcurrent" ] do info.Environment.Remove name |> ignore
                    for k, v in callerSets do info.Environment.[k] <- v
                    let code, out, err = Repo.runInfo info 3.0
                    Expect.equal code 0 $"nv run probe: {err}"
                    out.Split('\n') |> Array.find (fun l -> l.StartsWith "result: ")
                Expect.equal (probe []) "result: 0 Batch" "tiered compilation off; a blocking GC (Batch: no background thread)"
                Expect.equal (probe [ "DOTNET_TieredCompilation", "1"; "DOTNET_gcConcurrent", "1" ]) "result: 1 Interactive" "the caller's own choice is kept"
            finally
                Directory.Delete(root, true)
        }
        test "nv help lists the commands, one line each" {
            let code, out, _ = nv [ "help" ]
            Expect.equal code 0 "help succeeds"
            for command in [ "demo"; "test"; "shape"; "info" ] do
                Expect.isTrue (out.Split('\n') |> Array.exists (fun l -> l.TrimStart().StartsWith(command + " "))) $"a line for {command}"
        }
    ]
