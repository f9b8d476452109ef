/// Every loss against values computed by hand from its definition.
module NeuralVision.Tests.LossTests

open System
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
        // The written-out training step takes cross-entropy's gradient without autograd (CrossEntropyGradient): it must be
        // autograd's to the bit, value and gradient, for any batch size and class count, and for logits far apart (the
        // exponentials of log-probabilities down to −104 and below, subnormal or 0).
        test "cross-entropy's written-out value and gradient are autograd's to the bit" {
            let written (loss: Loss) (o: torch.Tensor) (target: torch.Tensor) =
                let flags = Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic
                match typeof<Loss>.GetMethod("ValueAndGradient", flags).Invoke(loss, [| box o; box target |]) with
                | null -> None
                | result -> Some(result :?> struct (torch.Tensor * torch.Tensor))
            let bits (x: torch.Tensor) = x.detach().contiguous().data<float32>().ToArray() |> Array.map BitConverter.SingleToInt32Bits
            let generator = new torch.Generator(11UL)
            let mutable compared = 0
            for rows, classes in [ 64L, 10L; 32L, 10L; 100L, 10L; 7L, 3L; 1L, 37L ] do
                for scale in [ 0.1; 1.0; 10.0; 60.0 ] do
                    for _ in 1 .. 25 do
                        let logits = torch.randn([| rows; classes |], generator = generator).mul(torch.tensor (float32 scale))
                        let target = torch.randint(0L, classes, [| rows |], generator = generator)
                        let o = logits.detach().requires_grad_()
                        let expected = torch.nn.functional.cross_entropy(o, target)
                        expected.backward()
                        match written (Loss.CrossEntropy()) logits target with
                        | None -> failtest $"no written-out gradient for {rows}×{classes}"
                        | Some(struct (v, g)) ->
                            Expect.equal (bits v) (bits expected) $"{rows}×{classes}, scale {scale}: the loss"
                            Expect.equal (bits g) (bits o.grad) $"{rows}×{classes}, scale {scale}: the gradient"
                            compared <- compared + int (rows * classes)
            Expect.equal compared (25 * 4 * (640 + 320 + 1000 + 21 + 37)) "every element compared"
        }
        test "cross-entropy's gradient is written out only for the plain loss, and its refusals stay" {
            let flags = Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic
            let written (loss: Loss) (o: torch.Tensor) (target: torch.Tensor) =
                typeof<Loss>.GetMethod("ValueAndGradient", flags).Invoke(loss, [| box o; box target |]) |> isNull |> not
            let logits, target = torch.randn(4L, 3L), torch.tensor([| 0L; 2L; 1L; 1L |])
            Expect.isTrue (written (Loss.CrossEntropy()) logits target) "plain cross-entropy"
            Expect.isFalse (written (Loss.CrossEntropy(classWeights = [| 1.; 2.; 1. |])) logits target) "class weights: autograd's"
            Expect.isFalse (written (Loss.CrossEntropy(labelSmoothing = 0.1)) logits target) "label smoothing: autograd's"
            Expect.isFalse (written (Loss.CrossEntropy().Plus(Loss.Mse())) logits target) "a sum of losses: autograd's"
            // C#'s `loss with { Function = … }`: the record's clone, its Function set.
            let copy = typeof<Loss>.GetMethod("<Clone>$").Invoke(Loss.CrossEntropy(), [||]) :?> Loss
            typeof<Loss>.GetProperty("Function").SetValue(copy, Func<torch.Tensor, torch.Tensor, torch.Tensor>(fun o _ -> o.sum()))
            Expect.isFalse (written copy logits target) "a copy with another function: autograd's"
            Expect.isFalse (written (Loss.CrossEntropy()) (logits.to_type(torch.float64)) target) "float64 logits: autograd's"
            Expect.isFalse (written (Loss.CrossEntropy()) logits (logits.softmax(1L))) "class probabilities as targets: autograd's"
            let e = Expect.throwsC (fun () -> written (Loss.CrossEntropy()) logits (torch.tensor([| 0L; 3L; 1L; 1L |])) |> ignore) (fun e -> e.InnerException)
            Expect.stringContains e.Message "class 3, but the model gives 3 classes" "the target out of range, said plainly"
        }
    ]
