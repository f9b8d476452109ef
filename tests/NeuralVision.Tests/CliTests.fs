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
        test "nv help lists the commands, one line each" {
            let code, out, _ = nv [ "help" ]
            Expect.equal code 0 "help succeeds"
            for command in [ "demo"; "test"; "shape"; "info" ] do
                Expect.isTrue (out.Split('\n') |> Array.exists (fun l -> l.TrimStart().StartsWith(command + " "))) $"a line for {command}"
        }
    ]
