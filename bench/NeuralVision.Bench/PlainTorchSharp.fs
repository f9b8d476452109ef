/// The baseline: the same models and loops written directly against TorchSharp, with no NeuralVision code.
module NeuralVision.Bench.PlainTorchSharp

open TorchSharp
open type TorchSharp.torch.nn

/// LeNet-5 with ReLU and max-pooling, as in PyTorch tutorials.
let lenet () : Module<torch.Tensor, torch.Tensor> =
    Sequential(
        Conv2d(1L, 6L, 5L, padding = 2L), ReLU(), MaxPool2d(2L),
        Conv2d(6L, 16L, 5L), ReLU(), MaxPool2d(2L),
        Flatten(), Linear(400L, 120L), ReLU(), Linear(120L, 84L), ReLU(), Linear(84L, 10L))

/// One training epoch: shuffled batches, Adam, cross-entropy, a dispose scope per step; returns step times (s).
let trainEpoch (model: Module<torch.Tensor, torch.Tensor>) (optimizer: torch.optim.Optimizer) (x: torch.Tensor) (y: torch.Tensor) (batch: int64) =
    model.train()
    let n = x.shape.[0]
    use order = torch.randperm n
    [| for start in 0L .. batch .. n - 1L ->
        let clock = System.Diagnostics.Stopwatch.StartNew()
        use scope = torch.NewDisposeScope()
        let index = order.narrow(0L, start, min batch (n - start))
        optimizer.zero_grad()
        let loss = functional.cross_entropy(model.forward(x.index_select(0L, index)), y.index_select(0L, index))
        loss.backward()
        optimizer.step() |> ignore
        loss.item<float32>() |> ignore
        clock.Elapsed.TotalSeconds |]

/// The tiny MLP 1→50→50→1 with sigmoids.
let mlp () : Module<torch.Tensor, torch.Tensor> =
    Sequential(Linear(1L, 50L), Sigmoid(), Linear(50L, 50L), Sigmoid(), Linear(50L, 1L))

/// `steps` full-batch Adam steps; returns the mean step time (s).
let mlpSteps (model: Module<torch.Tensor, torch.Tensor>) (optimizer: torch.optim.Optimizer) (x: torch.Tensor) (y: torch.Tensor) (steps: int) =
    let clock = System.Diagnostics.Stopwatch.StartNew()
    for _ in 1 .. steps do
        use scope = torch.NewDisposeScope()
        optimizer.zero_grad()
        let loss = functional.mse_loss(model.forward x, y)
        loss.backward()
        optimizer.step() |> ignore
        loss.item<float32>() |> ignore
    clock.Elapsed.TotalSeconds / float steps

/// Images per second in evaluation mode with batches of `batch`.
let inference (model: Module<torch.Tensor, torch.Tensor>) (x: torch.Tensor) (batch: int64) =
    model.eval()
    use _ = torch.no_grad()
    let n = x.shape.[0]
    let clock = System.Diagnostics.Stopwatch.StartNew()
    for start in 0L .. batch .. n - 1L do
        use scope = torch.NewDisposeScope()
        model.forward(x.narrow(0L, start, min batch (n - start))) |> ignore
    float n / clock.Elapsed.TotalSeconds
