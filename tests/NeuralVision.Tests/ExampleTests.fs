/// The examples run as a user runs them, and print what they promise.
module NeuralVision.Tests.ExampleTests

open System.IO
open Expecto

let tests =
    testList "examples" [
        test "01-tensors.fsx runs under dotnet fsi and takes the course's gradient step" {
            let script = Path.Combine(Repo.root.Value, "examples", "01-tensors.fsx")
            let code, out, err = Repo.runProgram "dotnet" [ "fsi"; "--quiet"; script ] [] 5.0
            Expect.equal code 0 $"dotnet fsi failed:\n{out}\n{err}"
            Expect.equal (Repo.resultLine out) (Some ("w_after_one_step", "7.84")) $"its result line:\n{out}"
        }
        test "the C# tensors example runs and takes the same step" {
            let dll = Path.Combine(Repo.root.Value, "examples", "CSharp", "Tensors", "bin", Repo.configuration, "net10.0", "NeuralVision.Examples.Tensors.dll")
            let code, out, err = Repo.runProgram "dotnet" [ dll ] [] 2.0
            Expect.equal code 0 $"the C# example failed:\n{out}\n{err}"
            Expect.equal (Repo.resultLine out) (Some ("w_after_one_step", "7.84")) $"its result line:\n{out}"
        }
    ]
