module NeuralVision.Tests.TensorTests

open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open TorchSharp
open NeuralVision

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

/// Arrays of NaN-free floats: NaN <> NaN would make equality meaningless.
let private finite (xs: float32[]) = xs |> Array.map (fun x -> if System.Single.IsFinite x then x else 0.f)

let roundTrips =
    testList "round trips" [
        testPropertyWithConfig config "1-D float32" <| fun (xs: float32[]) ->
            let xs = finite xs
            use t = Tensor.ofArray xs
            Tensor.toArray t = xs && Tensor.shape t = [ xs.Length ]
        testPropertyWithConfig config "2-D float32 keeps shape and order" <| fun (NonNegativeInt r) (NonNegativeInt c) (seed: int) ->
            let rnd = System.Random seed
            let a = Array2D.init (r % 7 + 1) (c % 7 + 1) (fun _ _ -> float32 (rnd.NextDouble()))
            use t = Tensor.ofArray2D a
            Tensor.toArray2D t = a && Tensor.shape t = [ Array2D.length1 a; Array2D.length2 a ]
        test "3-D and 4-D float32, element by element" {
            let a3 = Array3D.init 2 3 4 (fun i j k -> float32 (100 * i + 10 * j + k))
            use t3 = Tensor.ofArray3D a3
            Expect.equal (Tensor.toArray3D t3) a3 "3-D"
            Expect.equal (t3.[1L, 2L, 3L].item<float32>()) 123.f "index [1,2,3] is 123"
            let a4 = Array4D.init 2 1 3 2 (fun n c h w -> float32 (1000 * n + 100 * c + 10 * h + w))
            use t4 = Tensor.ofArray4D a4
            Expect.equal (Tensor.toArray4D t4) a4 "4-D"
            Expect.equal (Tensor.shape t4) [ 2; 1; 3; 2 ] "N×C×H×W"
        }
        test "float64 arrays stay float64" {
            use t = Tensor.ofFloats2D (array2D [ [ 1.0; 2.0 ]; [ 3.0; 1e-300 ] ])
            Expect.equal t.dtype torch.float64 "dtype"
            Expect.equal (Tensor.toFloats2D t) (array2D [ [ 1.0; 2.0 ]; [ 3.0; 1e-300 ] ]) "no precision lost"
        }
        test "labels are int64" {
            use t = Tensor.ofLabels [| 3L; 1L; 4L |]
            Expect.equal t.dtype torch.int64 "dtype"
        }
        testPropertyWithConfig config "MathNet vectors and matrices" <| fun (seed: int) (NonNegativeInt n) ->
            let rnd = System.Random seed
            let v = Vector<float>.Build.Dense(n % 9 + 1, fun _ -> rnd.NextDouble())
            let m = Matrix<float>.Build.Dense(n % 5 + 1, n % 3 + 2, fun _ _ -> rnd.NextDouble())
            use tv = Tensor.ofVector v
            use tm = Tensor.ofMatrix m
            Tensor.toVector tv = v && Tensor.toMatrix tm = m && Tensor.shape tm = [ m.RowCount; m.ColumnCount ]
        test "a rank mismatch on the way back is one clear error" {
            use t = Tensor.ofArray [| 1.f; 2.f |]
            let e = Expect.throwsC (fun () -> Tensor.toArray2D t |> ignore) id
            Expect.stringContains e.Message "rank 2" "says what was expected"
            Expect.stringContains e.Message "[2]" "and what it got"
        }
    ]

let purity =
    testList "purity" [
        test "changing the tensor does not change the array it came from" {
            let a = [| 1.f; 2.f; 3.f |]
            use t = Tensor.ofArray a
            t.mul_(torch.tensor 10.f) |> ignore
            Expect.equal a [| 1.f; 2.f; 3.f |] "the array is a copy's source, not its storage"
        }
        test "changing the returned array does not change the tensor" {
            use t = Tensor.ofArray [| 1.f; 2.f |]
            let back = Tensor.toArray t
            back.[0] <- 99.f
            Expect.equal (Tensor.toArray t) [| 1.f; 2.f |] "the tensor is unchanged"
        }
        test "toDevice leaves its input as it was" {
            use t = Tensor.ofArray [| 1.f; 2.f |]
            use moved = t |> Tensor.toDevice (Device.cpu ())
            Expect.equal (Tensor.toArray t) [| 1.f; 2.f |] "input"
            Expect.equal (Tensor.toArray moved) [| 1.f; 2.f |] "output"
            Expect.equal moved.device_type DeviceType.CPU "on the CPU"
        }
        testPropertyWithConfig config "the MathNet matrix is not changed by conversions" <| fun (seed: int) ->
            let rnd = System.Random seed
            let m = Matrix<float>.Build.Dense(3, 4, fun _ _ -> rnd.NextDouble())
            let copy = m.Clone()
            use t = Tensor.ofMatrix m
            t.add_(torch.tensor 1.0) |> ignore
            m = copy
    ]

/// The course's first lesson: w = [8, 8], f(w) = 10·Σw², one SGD step.
let gradientStep =
    testList "the course's gradient step" [
        test "the gradient of 10·Σw² at [8, 8] is [160, 160]" {
            use w = torch.tensor([| 8.0; 8.0 |], requires_grad = true)
            use f = (w.pow(torch.tensor 2.0)).sum().mul(torch.tensor 10.0)
            f.backward()
            Expect.equal (Tensor.toFloats w.grad) [| 160.0; 160.0 |] "20·w"
        }
        test "one SGD step with lr 0.001 gives [7.84, 7.84]; with lr 0.01, [6.4, 6.4]" {
            let stepWith (lr: float) =
                use w = new Modules.Parameter(torch.tensor [| 8.0; 8.0 |])
                use optimizer = torch.optim.SGD([| w |], lr)
                use f = (w.pow(torch.tensor 2.0)).sum().mul(torch.tensor 10.0)
                f.backward()
                optimizer.step() |> ignore
                Tensor.toFloats w
            let close (a: float[]) (b: float[]) = Array.forall2 (fun x y -> abs (x - y) < 1e-12) a b
            Expect.isTrue (close (stepWith 0.001) [| 7.84; 7.84 |]) $"lr 0.001: {stepWith 0.001}"
            Expect.isTrue (close (stepWith 0.01) [| 6.4; 6.4 |]) $"lr 0.01: {stepWith 0.01}"
        }
    ]

let tests = testList "tensors" [ roundTrips; purity; gradientStep ]
