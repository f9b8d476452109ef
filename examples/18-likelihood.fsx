// 18 — maximum likelihood: MSE is the Gaussian negative log-likelihood up to constants, and
// cross-entropy is the categorical one — shown numerically on data.
#load "Lesson.fsx"

open System
open TorchSharp
open NeuralVision
open Lesson

Seed.set 0
// Gaussian: NLL(y | ŷ, σ) = (y − ŷ)²/(2σ²) + log σ + ½ log 2π, so with σ = 1 the mean NLL is MSE/2 + const.
let y = torch.randn(1000L)
let predictions = [ for shift in [ 0.0; 0.3; 0.7; 1.5 ] -> y.add(torch.randn(1000L).mul(torch.tensor 0.5f)).add(torch.tensor (float32 shift)) ]
printfn "%10s %12s %18s" "MSE" "Gaussian NLL" "NLL − MSE/2"
let gaps =
    [ for p in predictions ->
          let mse = torch.nn.functional.mse_loss(p, y).item<float32>() |> float
          let nll = torch.nn.functional.gaussian_nll_loss(p, y, torch.ones(1000L), full = true).item<float32>() |> float
          printfn "%10.4f %12.4f %18.6f" mse nll (nll - mse / 2.)
          nll - mse / 2. ]
let constant = 0.5 * log (2. * Math.PI)
printfn "NLL − MSE/2 is the constant ½·log 2π = %.6f for every prediction" constant

// Categorical: cross-entropy = −mean log p(true class) = the NLL of the softmax probabilities.
let logits = torch.randn(500L, 10L)
let labels = torch.randint(10L, [| 500L |])
let crossEntropy = torch.nn.functional.cross_entropy(logits, labels).item<float32>() |> float
let probabilities = torch.nn.functional.softmax(logits, 1L)
let nll = probabilities.gather(1L, labels.unsqueeze(1L)).log().neg().mean().item<float32>() |> float
printfn "cross-entropy %.6f, categorical NLL %.6f" crossEntropy nll

let series = [ Plot.Series("Gaussian NLL − MSE/2", [| 0.0; 0.3; 0.7; 1.5 |], Array.ofList gaps)
               Plot.Series("½ log 2π", [| 0.0; 1.5 |], [| constant; constant |]) ]
Plot.Charts.Lines(picture "18-likelihood" "gaussian.png", "MSE is the Gaussian NLL up to a constant", "prediction shift", "value", series, markers = true)
result "max_deviation" (max (gaps |> List.map (fun g -> abs (g - constant)) |> List.max) (abs (crossEntropy - nll)))
