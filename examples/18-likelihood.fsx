// 18 — maximum likelihood: MSE is the Gaussian negative log-likelihood up to constants, and
// cross-entropy is the categorical one — shown numerically on data.
#load "Lesson.fsx"

open System
open NeuralVision
open Lesson

Seed.set 0
// Gaussian: NLL(y | ŷ, σ) = (y − ŷ)²/(2σ²) + log σ + ½ log 2π, so with σ = 1 the mean NLL is MSE/2 + const.
let y = randn [ 1000 ]
let predictions = [ for shift in [ 0.0; 0.3; 0.7; 1.5 ] -> y + 0.5 * randn [ 1000 ] + shift ]
// libtorch's own Gaussian NLL with σ² = 1 and the constant term (full = true).
let gaussianNll (prediction: Tensor) (truth: Tensor) =
    Tensor.item (TorchSharp.torch.nn.functional.gaussian_nll_loss(prediction, truth, ones [ 1000 ], full = true))
printfn "%10s %12s %18s" "MSE" "Gaussian NLL" "NLL − MSE/2"
let gaps =
    [ for p in predictions ->
          let mse = Metric.value Metric.mse p y
          let nll = gaussianNll p y
          printfn "%10.4f %12.4f %18.6f" mse nll (nll - mse / 2.)
          nll - mse / 2. ]
let constant = 0.5 * log (2. * Math.PI)
printfn "NLL − MSE/2 is the constant ½·log 2π = %.6f for every prediction" constant

// Categorical: cross-entropy = −mean log p(true class) = the NLL of the softmax probabilities.
let logits = randn [ 500; 10 ]
let labels = randint 10 [ 500 ]
let crossEntropyValue = Tensor.item (crossEntropy.Compute(logits, labels))
let probabilities = Tensor.softmax 1 logits
let nll = -Tensor.item (Tensor.mean (log (probabilities.gather(1, Tensor.reshape [ -1; 1 ] labels))))
printfn "cross-entropy %.6f, categorical NLL %.6f" crossEntropyValue nll

Chart.lines(picture "18-likelihood" "gaussian.png", "MSE is the Gaussian NLL up to a constant", "prediction shift", "value",
            [ "Gaussian NLL − MSE/2", [| 0.0; 0.3; 0.7; 1.5 |], Array.ofList gaps; "½ log 2π", [| 0.0; 1.5 |], [| constant; constant |] ], markers = true)
result "max_deviation" (max (gaps |> List.map (fun g -> abs (g - constant)) |> List.max) (abs (crossEntropyValue - nll)))
