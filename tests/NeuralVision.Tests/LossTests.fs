/// Every loss against values computed by hand from its definition.
module NeuralVision.Tests.LossTests

open Expecto
open TorchSharp
open NeuralVision.Losses

let private t (xs: float list) = torch.tensor(Array.ofList xs, dtype = torch.float64)
let private t2 (rows: float list list) = torch.tensor(array2D rows, dtype = torch.float64)
let private value (loss: Loss) (o: torch.Tensor) (target: torch.Tensor) = (loss.Compute(o, target)).item<float>()
let private close expected actual message = Expect.floatClose { absolute = 1e-12; relative = 1e-12 } actual expected message
let private softmaxLog (row: float list) i = row.[i] - log (row |> List.sumBy exp)

let tests =
    testList "losses (hand-computed)" [
        test "mse, l1, smooth l1" {
            let o, target = t [ 1.; 2.; 3. ], t [ 1.; 1.; 1. ]
            close (5. / 3.) (value (Loss.Mse()) o target) "mse: (0 + 1 + 4) / 3"
            close 1.0 (value (Loss.L1()) o target) "l1: (0 + 1 + 2) / 3"
            close (2. / 3.) (value (Loss.SmoothL1()) o target) "smooth l1: (0 + 0.5 + 1.5) / 3"
            close ((0. + 0.5 * 0.25 / 0.5 + 0.75) / 3.) (value (Loss.SmoothL1 0.5) (t [ 1.; 1.5; 2. ]) target) "beta 0.5: 0, 0.5·0.25/0.5, 1 − 0.25"
        }
        test "bce on probabilities and on logits" {
            close (-(log 0.9 + log 0.8) / 2.) (value (Loss.Bce()) (t [ 0.9; 0.2 ]) (t [ 1.; 0. ])) "bce"
            close (-(log 0.9 + log 0.8)) (value (Loss.Bce Reduce.Sum) (t [ 0.9; 0.2 ]) (t [ 1.; 0. ])) "bce summed"
            close ((log 2. + log (1. + exp 2.)) / 2.) (value (Loss.BceWithLogits()) (t [ 0.; 2. ]) (t [ 1.; 0. ])) "σ(0) vs 1, σ(2) vs 0"
        }
        test "cross-entropy: plain, class weights, label smoothing; nll" {
            let rows = [ [ 1.; 2.; 3. ]; [ 0.5; 0.; -1. ] ]
            let logits, labels = t2 rows, torch.tensor([| 2L; 0L |])
            let l0, l1 = -(softmaxLog rows.[0] 2), -(softmaxLog rows.[1] 0)
            close ((l0 + l1) / 2.) (value (Loss.CrossEntropy()) logits labels) "mean of −log p(true)"
            let w = [| 1.; 1.; 2. |]
            close ((2. * l0 + 1. * l1) / 3.) (value (Loss.CrossEntropy(classWeights = w)) logits labels) "weighted: Σ w·l / Σ w"
            let eps = 0.1
            let smoothed (row: float list) y = (1. - eps) * -(softmaxLog row y) + eps * (List.init 3 (fun c -> -(softmaxLog row c)) |> List.average)
            close ((smoothed rows.[0] 2 + smoothed rows.[1] 0) / 2.) (value (Loss.CrossEntropy(labelSmoothing = eps)) logits labels) "label smoothing"
            let logProbs = t2 [ for row in rows -> [ for i in 0 .. 2 -> softmaxLog row i ] ]
            close ((l0 + l1) / 2.) (value (Loss.Nll()) logProbs labels) "nll on log-softmax equals cross-entropy"
        }
        test "per-pixel bce summed and averaged; dice" {
            let logits = torch.zeros([| 1L; 1L; 2L; 2L |], dtype = torch.float64)
            let mask = t [ 1.; 0.; 1.; 0. ] |> fun m -> m.reshape(1L, 1L, 2L, 2L)
            close (4. * log 2.) (value (Loss.PixelBce Reduce.Sum) logits mask) "4 pixels of ln 2"
            close (log 2.) (value (Loss.PixelBce Reduce.Mean) logits mask) "their mean"
            close (1. - (2. * 1. + 1.) / (2. + 2. + 1.)) (value (Loss.Dice()) logits mask) "p = 0.5: 1 − (2·1 + 1)/(2 + 2 + 1)"
            let confident = mask.mul(torch.tensor 80.).sub(torch.tensor 40.)
            Expect.isLessThan (value (Loss.Dice()) confident mask) 1e-12 "a confident right mask has Dice loss ≈ 0"
        }
        test "the course's localisation loss" {
            let zero = t2 [ [ 0.; 0.; 0.; 0.; 0. ] ]
            close (3. * log 2.) (value (Loss.Box()) zero (t2 [ [ 1.; 0.5; 0.5; 1.; 1. ] ])) "presence, cx, cy each ln 2; log 1 = 0"
            close (log 2.) (value (Loss.Box()) zero (t2 [ [ 0.; 0.9; 0.1; 0.3; 0.3 ] ])) "no object: only presence counts"
            close (3. * log 2. + 1. + 4.) (value (Loss.Box()) zero (t2 [ [ 1.; 0.5; 0.5; exp 1.; exp -2. ] ])) "(0 − 1)² + (0 + 2)²"
            let decoded = Loss.DecodeBox(t2 [ [ 0.; 0.; 0.; log 0.25; 0. ] ])
            Expect.equal (NeuralVision.Tensor.toFloats (decoded.reshape(5L))) [| 0.5; 0.5; 0.5; 0.25; 1. |] "decode: sigmoid and exp"
        }
        test "a wrongly shaped box target is one clear error" {
            let e = Expect.throwsC (fun () -> value (Loss.Box()) (t2 [ [ 0.; 0.; 0.; 0. ] ]) (t2 [ [ 0.; 0.; 0.; 0. ] ]) |> ignore) id
            Expect.stringContains e.Message "[N, 5]" "says what it needs"
        }
    ]
