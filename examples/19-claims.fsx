// 19 — the course's claims, each shown by an experiment: stacked sigmoids shrink the gradient (≤ 1/4 per
// layer); MSE after a sigmoid learns slower than BCE; L2 regularisation turns a function with several
// minima into one with a single minimum. (Momentum and Adam against SGD: 09; BatchNorm: 16; remedies: 15.)
#load "Lesson.fsx"

open System
open NeuralVision
open Lesson

// 1. The first layer's gradient norm in n-layer nets of 16 units, for sigmoid, tanh and ReLU.
Seed.set 0
let x = randn [ 256; 16 ]
let firstLayerGradient (activation: Layer) depth =
    Seed.set 1
    let net = ([ for _ in 1 .. depth -> linear 16 --> activation ] |> List.reduce (-->)) --> linear 1
    let model = Model.build [ 16 ] net
    (Tensor.sum (Model.forward model x)).backward()
    Tensor.item (Tensor.norm (Seq.head model.Parameters).Value.grad)
let depths = [ 2 .. 10 ]
let norms = [ for name, act in [ "sigmoid", sigmoid; "tanh", tanh; "relu", relu ] -> name, [| for d in depths -> firstLayerGradient act d |] ]
for name, ns in norms do printfn "%-8s first-layer gradient norm, depth 2..10: %s" name (String.Join(" ", ns |> Array.map (sprintf "%.1e")))
let sigmoidRatios = (snd norms.[0]) |> Array.pairwise |> Array.map (fun (a, b) -> b / a)
printfn "sigmoid: ratio per added layer %s (σ' ≤ 1/4)" (String.Join(" ", sigmoidRatios |> Array.map (sprintf "%.3f")))
Chart.lines(picture "19-claims" "vanishing-gradient.png", "First-layer gradient norm against depth", "layers", "gradient norm",
            [ for name, ns in norms -> name, depths |> List.map float |> Array.ofList, ns ], logY = true, markers = true)

// 2. MSE after a sigmoid against BCE on the same binary task, from a confidently wrong start.
let confidentlyWrong loss =
    Seed.set 2
    let xs = randn [ 512; 2 ]
    let ys = Tensor.above 0.0 xs.[*, 0..0]
    let model = Model.build [ 2 ] (linear 1 --> sigmoid)
    do
        use _ = TorchSharp.torch.no_grad()
        // Weight −8 on the deciding feature, 0 elsewhere: p ≈ 0 where the answer is 1 and the other way round.
        for p in model.Parameters do p.Value.zero_() |> ignore
        (Seq.head model.Parameters).Value.add_(tensor [ [ -8.; 0. ] ]) |> ignore
    Train.fit Train.quiet (sgd 0.5) loss model (batchesInOrder 512 (Dataset.ofTensors xs ys)) |> Seq.truncate 200 |> Seq.iter ignore
    Tensor.shareEqual (Tensor.above 0.5 (Model.predict model xs)) ys
let accMse, accBce = confidentlyWrong mse, confidentlyWrong bce
printfn "from a confidently wrong start, after 200 full-batch SGD steps: accuracy with MSE %.3f, with BCE %.3f" accMse accBce

// 3. L2: f(w) = sin(3w) + 0.1·w² has several minima on [−4, 4]; adding λw² with λ = 2 leaves one.
let f lambda w = sin (3. * w) + 0.1 * w * w + lambda * w * w
let grid = [| for i in 0 .. 800 -> -4. + 8. * float i / 800. |]
let localMinima lambda = grid |> Array.pairwise |> Array.pairwise |> Array.filter (fun ((a, b), (_, c)) -> f lambda b < f lambda a && f lambda b < f lambda c) |> Array.length
printfn "local minima on [-4, 4]: without L2 %d, with λ = 2: %d" (localMinima 0.) (localMinima 2.)
Chart.lines(picture "19-claims" "l2-minima.png", "sin(3w) + 0.1w² with and without L2 (λ = 2)", "w", "f(w)",
            [ "no L2", grid, grid |> Array.map (f 0.); "L2, λ = 2", grid, grid |> Array.map (f 2.) ])
printfn "result: bce_minus_mse_accuracy = %.4f" (accBce - accMse)
printfn "result: l2_local_minima = %d" (localMinima 2.)
result "max_sigmoid_gradient_ratio" (Array.max sigmoidRatios)
