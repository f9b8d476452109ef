/// `nv demo`: the main job on the embedded default — a LeNet-style CNN trained on Fashion-MNIST,
/// with a progress bar, the test accuracy, and pictures in out/demo/.
module NeuralVision.Cli.Demo

open System
open System.IO
open TorchSharp
open type TorchSharp.torch.nn
open NeuralVision
open NeuralVision.Data

/// LeNet-5 with ReLU and max-pooling, padding 2 so that 28×28 inputs keep LeNet's 32×32 geometry.
let private lenet () : Module<torch.Tensor, torch.Tensor> =
    Sequential(
        Conv2d(1L, 6L, 5L, padding = 2L), ReLU(), MaxPool2d(2L),
        Conv2d(6L, 16L, 5L), ReLU(), MaxPool2d(2L),
        Flatten(), Linear(400L, 120L), ReLU(), Linear(120L, 84L), ReLU(), Linear(84L, 10L))

/// Test accuracy and the predicted label of every test image, in batches without gradients.
let private evaluate (model: Module<torch.Tensor, torch.Tensor>) (images: torch.Tensor) (labels: torch.Tensor) =
    model.eval()
    use _ = torch.no_grad()
    let n = images.shape.[0]
    let predictions =
        [| for start in 0L .. 1000L .. n - 1L do
               use scope = torch.NewDisposeScope()
               let count = min 1000L (n - start)
               yield! Tensor.toArray (model.forward(images.narrow(0L, start, count)).argmax(1L).``to``(torch.float32)) |]
        |> Array.map int
    let truth = labels.data<int64>().ToArray()
    let correct = Array.fold2 (fun acc p t -> if int64 p = t then acc + 1 else acc) 0 predictions truth
    float correct / float n, predictions

/// Runs the demo; returns the test accuracy.
let run (epochs: int) (batchSize: int) (outDir: string) : float =
    Seed.set 0L
    printfn "Fashion-MNIST: looking for the data (provisioned on first use)..."
    let data = FashionMnist.Load(Console.provisionProgress ())
    let struct (trainX, trainY) = data.Train.ToTensors()
    let struct (testX, testY) = data.Test.ToTensors()
    printfn "train %d images, test %d; device %O" data.Train.Count data.Test.Count (Device.current ())
    let model = lenet ()
    let optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    let n = trainX.shape.[0]
    let steps = int ((n + int64 batchSize - 1L) / int64 batchSize)
    let losses = Collections.Generic.List<float>()
    for epoch in 1 .. epochs do
        model.train()
        use order = torch.randperm(n)
        Console.withProgress $"epoch {epoch}/{epochs}" steps (fun tick ->
            for step in 0 .. steps - 1 do
                // Everything the step allocates is freed at its end; only parameters and Adam's state live on.
                use scope = torch.NewDisposeScope()
                let start = int64 step * int64 batchSize
                let index = order.narrow(0L, start, min (int64 batchSize) (n - start))
                optimizer.zero_grad()
                let loss = functional.cross_entropy(model.forward(trainX.index_select(0L, index)), trainY.index_select(0L, index))
                loss.backward()
                optimizer.step() |> ignore
                let value = loss.item<float32>() |> float
                losses.Add value
                tick $"loss {value:F3}")
    let accuracy, predictions = evaluate model testX testY
    Directory.CreateDirectory outDir |> ignore
    Plot.Curves.Loss(Path.Combine(outDir, "loss.png"), losses, "LeNet on Fashion-MNIST, Adam 1e-3")
    Plot.ImageGrid.Predictions(Path.Combine(outDir, "predictions.png"), data.Test, predictions, 32)
    printfn "pictures: %s, %s" (Path.Combine(outDir, "loss.png")) (Path.Combine(outDir, "predictions.png"))
    printfn "test accuracy: %.4f" accuracy
    accuracy
