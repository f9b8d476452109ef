/// The FLOP bound: how much of the machine's measured matrix-multiply speed a training run turns into its own
/// arithmetic. Only convolutions and linear layers count (their multiply-adds are the work; pooling, activations
/// and the loss are memory traffic), each multiply-add two FLOPs.
module NeuralVision.Bench.Flops

open TorchSharp
open NeuralVision
open NeuralVision.Layers
open NeuralVision.Bench.Measure

/// Multiply-adds per sample of each convolution and linear layer of a flat sequence, in order, for an input shape.
let multiplyAdds (spec: Layer) (input: Shape) =
    LayerTree.Leaves spec
    |> Seq.fold (fun (shape: Shape, counts) (struct (_, layer: Layer)) ->
        let output = layer.OutputShape shape
        let count =
            match layer with
            | :? Conv2d as conv -> Some (float output.Elements * float (shape.[0] / conv.Groups * conv.Kernel * conv.Kernel))
            | :? Linear -> Some (float shape.Elements * float output.Elements)
            | _ -> None
        output, (match count with Some c -> counts @ [ c ] | None -> counts)) (input, [])
    |> snd

/// FLOPs per sample trained: forward (2 per multiply-add), the weights' gradients (as many) and the inputs'
/// gradients (as many, except for the first layer, whose input needs none).
let trainingFlopsPerSample (spec: Layer) (input: Shape) =
    match multiplyAdds spec input with
    | [] -> 0.
    | all -> 2. * List.sum all + 2. * List.sum all + 2. * List.sum (List.tail all)

/// The machine's matrix-multiply speed in GFLOP/s with libtorch's threads: the best median of square float32
/// products of a few sizes (what its BLAS reaches on this CPU and these cores).
let matmulPeakGflops () =
    [ for n in [ 512L; 1024L; 2048L ] ->
        use a = torch.randn(n, n)
        use b = torch.randn(n, n)
        let product () = (use c = a.mm b in ())
        product ()
        let repeats = int (max 3L (4096L * 4096L * 4096L / (n * n * n) / 8L))
        let t = median [ for _ in 1 .. 5 -> seconds (fun () -> for _ in 1 .. repeats do product ()) / float repeats ]
        2. * float n * float n * float n / t / 1e9 ]
    |> List.max
