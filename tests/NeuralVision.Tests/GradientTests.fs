/// Autograd against central finite differences (float64) on FsCheck-made compositions of
/// elementwise and matrix functions.
module NeuralVision.Tests.GradientTests

open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp

/// A differentiable expression of one 3×3 input.
type Expr =
    | Input
    | Sin of Expr
    | Tanh of Expr
    | Sigmoid of Expr
    | Square of Expr
    | Softplus of Expr
    | Scale of float * Expr
    | Add of Expr * Expr
    | Mul of Expr * Expr
    | MatMul of Expr * Expr
    | Transpose of Expr

let rec private eval (x: torch.Tensor) expr : torch.Tensor =
    match expr with
    | Input -> x
    | Sin e -> (eval x e).sin()
    | Tanh e -> (eval x e).tanh()
    | Sigmoid e -> (eval x e).sigmoid()
    | Square e -> (eval x e).square()
    | Softplus e -> torch.nn.functional.softplus(eval x e)
    | Scale (k, e) -> (eval x e).mul(torch.tensor k)
    | Add (a, b) -> (eval x a).add(eval x b)
    | Mul (a, b) -> (eval x a).mul(eval x b)
    | MatMul (a, b) -> (eval x a).matmul(eval x b)
    | Transpose e -> (eval x e).t()

let rec private genExpr size : Gen<Expr> =
    if size <= 0 then Gen.constant Input
    else
        let sub = genExpr (size / 2)
        Gen.oneof [
            Gen.constant Input
            Gen.map Sin sub; Gen.map Tanh sub; Gen.map Sigmoid sub; Gen.map Square sub
            Gen.map Softplus sub; Gen.map Transpose sub
            Gen.map2 (fun k e -> Scale (k, e)) (Gen.elements [ -2.0; -0.5; 0.5; 3.0 ]) sub
            Gen.map2 (fun a b -> Add (a, b)) sub sub
            Gen.map2 (fun a b -> Mul (a, b)) sub sub
            Gen.map2 (fun a b -> MatMul (a, b)) sub sub
        ]

let private genCase =
    gen {
        let! expr = Gen.sized (fun s -> genExpr (min s 12))
        let! values = Gen.arrayOfLength 9 (Gen.choose (-1000, 1000) |> Gen.map (fun i -> float i / 1000.0))
        return expr, values
    }

/// f(x) = Σ expr(x), its autograd gradient, and its central-difference gradient.
let private gradients expr (values: float[]) =
    use scope = torch.NewDisposeScope()
    let f (v: float[]) =
        use s = torch.NewDisposeScope()
        (eval (torch.tensor(v, System.ReadOnlySpan [| 3L; 3L |])) expr).sum().item<float>()
    let x = torch.tensor(values, System.ReadOnlySpan [| 3L; 3L |]).requires_grad_(true)
    (eval x expr).sum().backward()
    let autograd = NeuralVision.Tensor.toFloats (x.grad.reshape(9L))
    let h = 1e-6
    let numeric =
        Array.init 9 (fun i ->
            let plus = Array.copy values
            let minus = Array.copy values
            plus.[i] <- plus.[i] + h
            minus.[i] <- minus.[i] - h
            (f plus - f minus) / (2.0 * h))
    autograd, numeric

let tests =
    testList "autograd vs finite differences" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 300 } "random compositions" <|
            Prop.forAll (Arb.fromGen genCase) (fun (expr, values) ->
                let autograd, numeric = gradients expr values
                Array.forall2 (fun a n -> abs (a - n) <= 1e-5 * (1.0 + abs n)) autograd numeric
                |> Prop.label $"%A{expr}\nautograd %A{autograd}\nnumeric  %A{numeric}")
        test "the check can fail: a wrong gradient is caught" {
            // Detaching the inner term removes its contribution from autograd's gradient only.
            use x = torch.tensor([| 0.3; -0.2; 0.5 |], requires_grad = true)
            (x.sin().detach().mul(x)).sum().backward()
            let autograd = NeuralVision.Tensor.toFloats x.grad
            let exact = [| 0.3; -0.2; 0.5 |] |> Array.map (fun v -> sin v + v * cos v)
            Expect.isFalse (Array.forall2 (fun a n -> abs (a - n) <= 1e-5) autograd exact) "differs from the true derivative"
        }
    ]
