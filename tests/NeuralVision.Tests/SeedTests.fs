module NeuralVision.Tests.SeedTests

open System
open System.Security.Cryptography
open Expecto
open TorchSharp
open NeuralVision

/// Child mode "seed N": seed, then draw from libtorch, from a library Random, and train a few
/// steps; print a hash of every resulting bit.
let childMain (args: string list) =
    Seed.set (int (List.head args))
    use scope = torch.NewDisposeScope()
    let noise = torch.randn([| 1000L |], dtype = torch.float64)
    let rnd = Tensors.Seeding.NewRandom()
    let shuffled = Array.init 100 id |> Array.sortBy (fun _ -> rnd.Next())
    let model = torch.nn.Linear(20L, 3L)
    let optimizer = torch.optim.Adam(model.parameters(), 0.01)
    let x = torch.randn([| 64L; 20L |])
    for _ in 1 .. 5 do
        optimizer.zero_grad()
        let loss = model.forward(x).square().mean()
        loss.backward()
        optimizer.step() |> ignore
    let bytes =
        [| yield! noise.data<float>().ToArray() |> Array.collect BitConverter.GetBytes
           yield! shuffled |> Array.collect BitConverter.GetBytes
           for p in model.parameters() do yield! p.data<float32>().ToArray() |> Array.collect BitConverter.GetBytes |]
    printfn "%s" (Convert.ToHexString(SHA256.HashData bytes))
    0

let tests =
    testList "seeding" [
        test "the same seed gives bit-identical results in two processes; another seed does not" {
            let hashOf seed =
                let code, out, err = ChildProcess.run "seed" [ string seed ] []
                Expect.equal code 0 $"child failed: {err}"
                out.Trim()
            let a, b, c = hashOf 7, hashOf 7, hashOf 8
            Expect.equal a b "seed 7 twice"
            Expect.notEqual a c "seed 8 must differ, or the check could not fail"
        }
    ]
