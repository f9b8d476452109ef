module NeuralVision.Tests.LayerTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open NeuralVision
open NeuralVision.Layers

let private lenet =
    Net.Conv2d(6L, 5L, padding = 2L) --> tanh --> avgPool 2
    --> conv2d 16 5 --> tanh --> avgPool 2
    --> flatten --> linear 120 --> tanh --> linear 84 --> tanh --> linear 10

/// Runs a built model on a zero batch of 2 and returns the output shape without the batch.
let private realShape (model: Layers.Model) =
    use scope = torch.NewDisposeScope()
    model.Eval()
    use _ = torch.no_grad()
    let out = model.Forward(torch.zeros(model.Input.WithBatch 2L))
    List.ofArray out.shape |> List.tail

let private shapeError (input: int list) (layer: Layer) =
    try
        Model.outputShape input layer |> ignore
        failtest "expected a ShapeException"
    with :? ShapeException as e -> e

let valueTests =
    testList "layer values" [
        test "layers are equal by value and print their settings" {
            Expect.equal (conv2d 6 5) (conv2d 6 5) "same settings, equal"
            Expect.notEqual (conv2d 6 5) (conv2d 6 3) "different kernel"
            Expect.equal (string (Net.Conv2d(16L, 3L, stride = 2L, padding = 1L))) "conv2d(16, k3, s2, p1)" "description"
            Expect.equal (conv2d 6 5 --> relu --> flatten) (conv2d 6 5 --> relu --> flatten) "pipelines compare by value"
        }
        test "building a model does not change the layer value" {
            let spec = lenet
            let before = string spec, spec.GetHashCode()
            let _ = Model.build [ 1; 28; 28 ] spec
            Expect.equal (string spec, spec.GetHashCode()) before "unchanged"
        }
    ]

let summaryTests =
    testList "summary" [
        test "LeNet-5 on 28×28 (padding 2): 61,706 parameters, shapes as in the course" {
            let model = Model.build [ 1; 28; 28 ] lenet
            Expect.equal model.ParameterCount 61706L "6·26 + 16·151 + 400·120+120 + 120·84+84 + 84·10+10"
            let shapes = [ for r in model.Rows -> r.Path, string r.Output ]
            Expect.contains shapes ("0", "6x28x28") "conv1 keeps 28×28"
            Expect.contains shapes ("5", "16x5x5") "after the second pool"
            Expect.contains shapes ("6", "400") "flatten"
            let text = Model.summary model
            Expect.stringContains text "total params: 61,706" "total line"
            Expect.stringContains text "(N, 6, 28, 28)" "output shape column"
        }
        test "nested combinators show their paths" {
            let block = residual (conv2dSame 8 3 --> relu --> conv2dSame 8 3)
            let model = Model.build [ 8; 10; 10 ] (block --> globalAvgPool --> linear 2)
            let paths = [ for r in model.Rows -> r.Path ]
            Expect.equal paths [ "0.body.0"; "0.body.1"; "0.body.2"; "1"; "2" ] "paths"
        }
    ]

let errorTests =
    testList "shape errors at build time" [
        test "linear after an image without flatten" {
            let e = shapeError [ 1; 28; 28 ] (conv2d 6 5 --> linear 10)
            Expect.equal e.Path "1" "path"
            Expect.equal (string e.Got) "6x24x24" "got"
            Expect.stringContains e.Message "add flatten" "what to do"
        }
        test "a stated in-features size that disagrees" {
            let e = shapeError [ 1; 28; 28 ] (conv2d 6 5 --> maxPool 2 --> flatten --> Net.Linear(120L, inFeatures = 400L))
            Expect.stringContains e.Message "layer 3 'linear(120)' got input 864" "names the layer and what it got"
            Expect.stringContains e.Message "400 input features" "and what it needed"
        }
        test "a residual whose body changes the channels" {
            let e = shapeError [ 8; 10; 10 ] (residual (conv2dSame 16 3))
            Expect.equal e.Path "" "the residual itself"
            Expect.stringContains e.Message "the body gives 16x10x10, the shortcut 8x10x10" "both shapes"
        }
        test "concat branches of different heights" {
            let e = shapeError [ 3; 16; 16 ] (concat [ conv2dSame 4 3; conv2d 4 3 ])
            Expect.stringContains e.Message "branch 0 gives 4x16x16, branch 1 gives 4x14x14" "both branch shapes"
        }
        test "a convolution on a vector" {
            let e = shapeError [ 784 ] (conv2d 6 5)
            Expect.stringContains e.Message "[channels, height, width]" "what it needs"
            Expect.stringContains e.Message "reshape" "what to do"
        }
        test "a kernel larger than what is left of the image" {
            let e = shapeError [ 1; 8; 8 ] (conv2d 6 5 --> maxPool 2 --> conv2d 6 5)
            Expect.equal e.Path "2" "the second convolution"
            Expect.stringContains e.Message "got input 6x2x2" "its input"
        }
        test "a wrong shape is found before any parameter exists" {
            Expect.throwsT<ShapeException> (fun () -> Model.build [ 1; 28; 28 ] (conv2d 6 5 --> linear 10) |> ignore) "build refuses"
        }
    ]

let convArithmeticTests =
    testList "conv arithmetic" [
        test "the course's example: 1x1x32x32, 6 channels, k5 s1 p0 → 1x6x28x28" {
            Expect.equal (ConvArithmetic.CalcOutShape([| 1L; 1L; 32L; 32L |], 6L, 5L, 1L, 0L)) [| 1L; 6L; 28L; 28L |] "calc_out_shape"
        }
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 150 } "agrees with libtorch's real convolution" <|
            Prop.forAll (Arb.fromGen (gen {
                let! size = Gen.choose (1, 20)
                let! kernel = Gen.choose (1, 7)
                let! stride = Gen.choose (1, 4)
                let! padding = Gen.choose (0, 3)
                let! dilation = Gen.choose (1, 3)
                return size, kernel, stride, padding, dilation })) (fun (size, kernel, stride, padding, dilation) ->
                let expected = ConvArithmetic.OutputSize(int64 size, int64 kernel, int64 stride, int64 padding, int64 dilation)
                use scope = torch.NewDisposeScope()
                let input = torch.zeros([| 1L; 2L; int64 size; int64 size |])
                let weight = torch.zeros([| 3L; 2L; int64 kernel; int64 kernel |])
                let real =
                    try
                        let out = torch.nn.functional.conv2d(input, weight, strides = [| int64 stride; int64 stride |], padding = [| int64 padding; int64 padding |], dilation = [| int64 dilation; int64 dilation |])
                        Some out.shape.[2]
                    with _ -> None // libtorch refuses a window that does not fit
                match real with
                | Some h -> h = expected
                | None -> expected < 1L)
    ]

/// Convolutions DirectConvolution takes: up to 4 input channels, kernels up to 5×5, output rows of 16 or more (whole
/// runs of sixteen and a last run overlapping the one before): (batch, in, out, kernel, padding, height, width, bias, seed).
let private directConvolutionCases maxImages =
    Arb.fromGen (gen {
        let! n = Gen.choose (1, maxImages)
        let! c = Gen.choose (1, 4)
        let! o = Gen.choose (1, 12)
        let! k = Gen.choose (1, 5)
        let! padding = Gen.choose (0, k - 1)
        let! h = Gen.choose (k, 20)
        let! ow = Gen.choose (16, 40)
        let! bias = Gen.elements [ true; false ]
        let! seed = Gen.choose (0, 10000)
        return n, c, o, k, padding, h, ow + k - 1 - 2 * padding, bias, seed })

/// Whether a Conv2d model's outputs and its three gradients are libtorch's conv2d's up to float rounding. A sum taken
/// in another order differs by rounding in proportion to the magnitudes it adds up, not to its result (the bias's
/// gradient, a sum of ~1,000 upstream values, often nearly cancels), so each value is held within 1e-6 of that same
/// sum taken over magnitudes: the convolution of |x| by |w| plus |b|, and its gradients for |upstream|, times `bound`.
let private matchesLibtorchConvolutionScaled (bound: float32) (largestOnly: bool) (model: Layers.Model) (x: torch.Tensor) stride padding dilation bias (generator: torch.Generator) =
    for p in model.Parameters do (if not (isNull p.Value.grad) then p.Value.grad.zero_() |> ignore)
    let ours = x.clone().requires_grad_(true)
    let theirs = x.clone().requires_grad_(true)
    let outOurs = model.Forward ours
    let parameters = model.Parameters |> Seq.map (fun p -> p.Value.detach().clone().requires_grad_(true)) |> Array.ofSeq
    let conv (input: torch.Tensor) (ps: torch.Tensor[]) =
        torch.nn.functional.conv2d(input, ps.[0], (if bias then ps.[1] else null), strides = [| stride; stride |],
                                   padding = [| padding; padding |], dilation = [| dilation; dilation |])
    let outTheirs = conv theirs parameters
    let upstream = torch.randn(outTheirs.shape, generator = generator)
    outOurs.backward([| upstream |])
    outTheirs.backward([| upstream |])
    let magnitudes = x.abs().requires_grad_(true)
    let parameterMagnitudes = parameters |> Array.map (fun p -> p.detach().abs().requires_grad_(true))
    (conv magnitudes parameterMagnitudes).backward([| upstream.abs() |])
    let outMagnitudes = conv (x.abs()) (parameterMagnitudes |> Array.map (fun p -> p.detach()))
    let close (a: torch.Tensor) (b: torch.Tensor) (scale: torch.Tensor) =
        let scale = if largestOnly then scale.max() else scale
        a.shape = b.shape && (a - b).abs().le(scale.mul(torch.tensor bound)).all().item<bool>()
    let gradientsClose =
        Seq.zip3 model.Parameters parameters parameterMagnitudes
        |> Seq.forall (fun (mine, reference, scale) -> close mine.Value.grad reference.grad scale.grad)
    close outOurs outTheirs outMagnitudes && close ours.grad theirs.grad magnitudes.grad && gradientsClose

/// The same within 1e-6 of the magnitudes: direct convolutions, which only add in another order.
let private matchesLibtorchConvolution model x stride padding dilation bias generator =
    matchesLibtorchConvolutionScaled 1e-6f false model x stride padding dilation bias generator

/// Winograd's algorithm: within 1e-5 of the largest magnitude of the same tensor. Its transforms mix the values of a
/// tile, so a value that sums few terms (a border pixel's gradient) takes rounding from its neighbours' magnitudes,
/// not its own (measured: up to 1.8e-4 of its own, 2e-7 of the tensor's largest).
let private matchesLibtorchWinograd model x generator bias =
    matchesLibtorchConvolutionScaled 1e-5f true model x 1L 1L 1L bias generator

/// Convolutions of few input channels on wide rows run on DirectConvolution's kernels (sums in another order
/// than oneDNN's): outputs and the three gradients must be libtorch's conv2d's up to float rounding.
let directConvolutionTests =
    testList "direct convolution equals libtorch's conv2d" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 100 } "outputs and gradients of input, weight and bias, each within 1e-6 of the magnitudes it sums" <|
            Prop.forAll (directConvolutionCases 3) (fun (n, c, o, k, padding, h, w, bias, seed) ->
                use scope = torch.NewDisposeScope()
                let model = Model.build [ c; h; w ] (Net.Conv2d(int64 o, int64 k, padding = int64 padding, bias = bias))
                let generator = new torch.Generator(uint64 seed)
                let x = torch.randn([| int64 n; int64 c; int64 h; int64 w |], generator = generator)
                let weight = model.Parameters |> Seq.find (fun p -> p.Path.EndsWith "weight")
                let handles =
                    typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.DirectConvolution").GetMethod("Handles")
                        .Invoke(null, [| box x; box weight.Value; box 1L; box (int64 padding); box 1L; box 1L |]) :?> bool
                handles && matchesLibtorchConvolution model x 1L (int64 padding) 1L bias generator)
    ]

/// Convolutions DirectConvolution does not take: (batch, in, out, kernel, stride, padding, dilation, height, width, bias, seed).
let private oneDnnConvolutionCases =
    Arb.fromGen (gen {
        let! n = Gen.choose (1, 3)
        let! c = Gen.choose (1, 12)
        let! o = Gen.choose (1, 20)
        let! k = Gen.elements [ 1; 2; 3; 5; 7 ]
        let! stride = Gen.choose (1, 3)
        let! dilation = Gen.elements [ 1; 1; 2 ]
        let! padding = Gen.choose (0, k / 2)
        let span = (k - 1) * dilation + 1
        let! h = Gen.choose (max 1 (span - 2 * padding), 24)
        let! w = Gen.choose (max 1 (span - 2 * padding), 24)
        let! bias = Gen.elements [ true; false ]
        let! seed = Gen.choose (0, 10000)
        return n, c, o, k, stride, padding, dilation, h, w, bias, seed })

/// The oneDNN primitives a convolution layer keeps for each input shape it meets (OneDnnConvolution; null where
/// oneDNN had none).
let private oneDnnPrimitives (model: Layers.Model) =
    let root = Layers.TorchSharpEscape.Module model
    let field = root.GetType().GetField("primitives", Reflection.BindingFlags.NonPublic ||| Reflection.BindingFlags.Instance)
    field.GetValue root :?> Collections.IEnumerable |> Seq.cast<obj> |> Seq.map (fun entry -> entry.GetType().GetField("Item2").GetValue entry) |> List.ofSeq

let private runsWinograd (primitives: obj) = primitives.GetType().GetProperty("Winograd").GetValue primitives :?> bool

/// Where DirectConvolution does not apply, a convolution runs on oneDNN primitives made once per input shape
/// (forward, and the input's and weights' gradients), in the formats oneDNN picks: libtorch's conv2d up to rounding.
/// Winograd's algorithm (3×3, stride 1, planes of 8×8 and more, 16 channels or more in and out) rounds more in its
/// transforms, mixing a tile's values: its values are held within 1e-5 of the largest magnitude in their tensor.
let oneDnnConvolutionTests =
    testList "oneDNN training convolution equals libtorch's conv2d" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 100 } "outputs and gradients of input, weight and bias, with strides, padding and dilation, each within 1e-6 of the magnitudes it sums (Winograd's: 1e-5 of the largest)" <|
            Prop.forAll oneDnnConvolutionCases (fun (n, c, o, k, stride, padding, dilation, h, w, bias, seed) ->
                use scope = torch.NewDisposeScope()
                let layer = Net.Conv2d(int64 o, int64 k, stride = int64 stride, padding = int64 padding, dilation = int64 dilation, bias = bias)
                let model = Model.build [ c; h; w ] layer
                let generator = new torch.Generator(uint64 seed)
                let x = torch.randn([| int64 n; int64 c; int64 h; int64 w |], generator = generator)
                let weight = model.Parameters |> Seq.find (fun p -> p.Path.EndsWith "weight")
                let direct =
                    typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.DirectConvolution").GetMethod("Handles")
                        .Invoke(null, [| box x; box weight.Value; box (int64 stride); box (int64 padding); box (int64 dilation); box 1L |]) :?> bool
                // The primitives are made by the first forward pass; the comparison runs it.
                model.Forward x |> ignore
                let primitives = oneDnnPrimitives model |> List.tryHead |> Option.bind Option.ofObj
                let winograd = primitives |> Option.exists runsWinograd
                let matches = matchesLibtorchConvolutionScaled (if winograd then 1e-5f else 1e-6f) winograd model x (int64 stride) (int64 padding) (int64 dilation) bias generator
                // DirectConvolution took it, or oneDNN primitives were made for this shape and ran, or libtorch's
                // conv2d ran by design: the weights outnumber the input's values, or the last window drops input
                // columns (oneDNN would need a negative right padding).
                let dropsColumns size =
                    let span = (k - 1) * dilation + 1
                    let output = (size + 2 * padding - span) / stride + 1
                    (output - 1) * stride + span - size - padding < 0
                let libtorchByDesign = weight.Value.numel() > x.numel() || dropsColumns h || dropsColumns w
                ((direct || primitives.IsSome || libtorchByDesign) && matches) |> Prop.classify winograd "Winograd")
        // LeNet's second convolution at batch 64: with AVX-512 oneDNN writes its 16 output channels in one 16-wide block
        // (aBcd16b), the same bytes as channels-last, and reads the output's gradient so for both gradients; the
        // written-out step then skips three reorders. The channels-last output and gradient give the plain path's numbers.
        test "oneDNN's output and output gradient taken channels-last give the plain path's numbers to the bit" {
            use scope = torch.NewDisposeScope()
            let kind = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.OneDnnConvolution")
            match kind.GetMethod("TryCreate").Invoke(null, [| box [| 64L; 6L; 14L; 14L |]; box [| 16L; 6L; 5L; 5L |]; box true; box 1L; box 0L; box 1L |]) with
            | null -> failtest "oneDNN has primitives for LeNet's second convolution"
            | primitives ->
                let channelsLastOutput = kind.GetProperty("ChannelsLastOutput").GetValue(primitives) :?> bool
                if Runtime.Intrinsics.X86.Avx512F.IsSupported then Expect.isTrue channelsLastOutput "16 channels in one block on AVX-512"
                if channelsLastOutput then
                    let generator = new torch.Generator(9UL)
                    let x, weight, bias = torch.randn([| 64L; 6L; 14L; 14L |], generator = generator), torch.randn([| 16L; 6L; 5L; 5L |], generator = generator), torch.randn([| 16L |], generator = generator)
                    let forward (last: bool) = kind.GetMethod("Forward").Invoke(primitives, [| box x; box weight; box bias; box last |]) :?> torch.Tensor
                    let plain, last = forward false, forward true
                    let layout = typeof<Conv2d>.Assembly.GetType("NeuralVision.Tensors.MemoryLayout").GetMethod("IsChannelsLast")
                    Expect.isTrue (layout.Invoke(null, [| box last |]) :?> bool) "the output handed over channels-last"
                    Expect.isTrue (plain.equal(last).all().item<bool>()) "the same output"
                    let g = torch.randn([| 64L; 16L; 10L; 10L |], generator = generator)
                    let gradients (gradient: torch.Tensor) =
                        let struct (i: torch.Tensor, w: torch.Tensor, b: torch.Tensor) =
                            kind.GetMethod("Backward").Invoke(primitives, [| box x; box weight; box gradient; box [| true; true; true |] |]) :?> struct (torch.Tensor * torch.Tensor * torch.Tensor)
                        [ i; w; b ]
                    let lastGradient = g.permute(0L, 2L, 3L, 1L).contiguous().permute(0L, 3L, 1L, 2L)
                    for name, a, b in List.zip3 [ "input"; "weight"; "bias" ] (gradients g) (gradients lastGradient) do
                        Expect.isTrue (a.equal(b).all().item<bool>()) $"the {name}'s gradient from a channels-last output gradient"
        }
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 25 } "3x3 stride-1 convolutions of 16 channels or more on planes of 8x8 and more run Winograd's algorithm, within 1e-5 of each tensor's largest magnitude" <|
            Prop.forAll (Arb.fromGen (gen {
                // oneDNN 2.6 has Winograd for channels in whole blocks of 16 (as ResNet's are); the input outnumbers
                // the weights (else libtorch's conv2d runs, above).
                let! n = Gen.choose (2, 3)
                let! c = Gen.elements [ 16; 32; 48 ]
                let! o = Gen.elements [ 16; 32 ]
                let! h = Gen.choose (12, 20)
                let! w = Gen.choose (12, 20)
                let! bias = Gen.elements [ true; false ]
                let! seed = Gen.choose (0, 10000)
                return n, c, o, h, w, bias, seed })) (fun (n, c, o, h, w, bias, seed) ->
                use scope = torch.NewDisposeScope()
                let model = Model.build [ c; h; w ] (Net.Conv2d(int64 o, 3L, padding = 1L, bias = bias))
                let generator = new torch.Generator(uint64 seed)
                let x = torch.randn([| int64 n; int64 c; int64 h; int64 w |], generator = generator)
                let matches = matchesLibtorchWinograd model x generator bias
                matches && (oneDnnPrimitives model |> List.exists (fun p -> not (isNull p) && runsWinograd p)))
        testCase "a layer meeting more input shapes than it keeps primitives for still computes conv2d" <| fun () ->
            use scope = torch.NewDisposeScope()
            let model = Model.build [ 6; 14; 14 ] (conv2d 16 5)
            let generator = new torch.Generator(5UL)
            for round in 1 .. 2 do
                for n in 1 .. 6 do
                    let x = torch.randn([| int64 n; 6L; 14L; 14L |], generator = generator)
                    Expect.isTrue (matchesLibtorchConvolution model x 1L 0L 1L true generator) $"round {round}, batch {n}"
            Expect.isLessThanOrEqual (oneDnnPrimitives model).Length 4 "primitives kept for at most the last four shapes"
    ]

/// A convolution on DirectConvolution's kernels followed by a ReLU computes the ReLU itself (as outputs are stored,
/// its gradient in one pass): the same numbers as the two steps, bit for bit, gradients included.
let convolutionReluTests =
    testList "a direct convolution and the ReLU after it" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 60 } "merged into one operation give the two steps' outputs and gradients, bit for bit" <|
            Prop.forAll (directConvolutionCases 4) (fun (n, c, o, k, padding, h, w, bias, seed) ->
                use scope = torch.NewDisposeScope()
                let conv = Net.Conv2d(int64 o, int64 k, padding = int64 padding, bias = bias)
                let merged = Model.build [ c; h; w ] (conv --> relu)
                // The same ReLU as a step the sequence does not recognise: the two steps taken one after the other.
                let apart = Model.build [ c; h; w ] (conv --> Net.Lambda("relu", fun x -> torch.nn.functional.relu x))
                for (a, b) in Seq.zip merged.Parameters apart.Parameters do (use _ = torch.no_grad() in b.Value.copy_(a.Value) |> ignore)
                let generator = new torch.Generator(uint64 seed)
                let x = torch.randn([| int64 n; int64 c; int64 h; int64 w |], generator = generator)
                let recognised =
                    let rule = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.FreshOutput").GetMethod("ConvolutionThenRelu")
                    let handles = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.DirectConvolution").GetMethod("Handles")
                    (rule.Invoke(null, [| box (conv --> relu) |]) :?> bool[]) = [| true; false |]
                    && (handles.Invoke(null, [| box x; box (Seq.head merged.Parameters).Value; box 1L; box (int64 padding); box 1L; box 1L |]) :?> bool)
                let run (model: Layers.Model) =
                    let input = x.clone().requires_grad_(true)
                    let output = model.Forward input
                    output.backward([| torch.randn(output.shape, generator = new torch.Generator(uint64 seed + 1UL)) |])
                    output, input.grad, [ for p in model.Parameters -> p.Value.grad ]
                let outMerged, inputGradMerged, gradsMerged = run merged
                let outApart, inputGradApart, gradsApart = run apart
                let same (a: torch.Tensor) (b: torch.Tensor) = a.shape = b.shape && a.equal(b).all().item<bool>()
                recognised && same outMerged outApart && same inputGradMerged inputGradApart && List.forall2 same gradsMerged gradsApart)
    ]

/// Batches for training's 2×2 pools: up to 8 images (planes shared between threads), 1–20 channels, heights 2–21 and
/// widths 2–41 (rows of whole eights, overlapping eights and under eight windows; odd sizes): (n, c, h, w, seed).
let private windowCases =
    Arb.fromGen (gen {
        let! n = Gen.choose (1, 8)
        let! c = Gen.choose (1, 20)
        let! h = Gen.choose (2, 21)
        let! w = Gen.choose (2, 41)
        let! seed = Gen.choose (0, 10000)
        return n, c, h, w, seed })

/// Values for them: small integers (so ties are common), with NaN, −inf and −0 among them.
let private windowValues (shape: int64[]) (generator: torch.Generator) =
    let special = torch.rand(shape, generator = generator)
    torch.randint(-3L, 4L, shape, generator = generator).to_type(torch.float32)
        .masked_fill(special.lt(torch.tensor 0.03f), TorchSharp.Scalar.op_Implicit Single.NaN)
        .masked_fill(special.gt(torch.tensor 0.97f), TorchSharp.Scalar.op_Implicit Single.NegativeInfinity)
        .masked_fill(special.gt(torch.tensor 0.5f).logical_and(special.lt(torch.tensor 0.6f)), TorchSharp.Scalar.op_Implicit -0.0f)

/// In training, a ReLU followed by a 2×2 max pool runs as one operation (WindowMaxPool with the ReLU taken as the
/// values are read, its gradient off the maxima): the same numbers as the two steps, bit for bit, the sign of zero,
/// NaN, −inf and ties included.
let reluMaxPoolTests =
    testList "a ReLU and the 2x2 max pool after it" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 150 } "merged into one operation give the two steps' outputs and gradients, bit for bit" <|
            Prop.forAll windowCases (fun (n, c, h, w, seed) ->
                use scope = torch.NewDisposeScope()
                let merged = Model.build [ c; h; w ] (relu --> maxPool 2)
                // The same ReLU as a step the sequence does not recognise: the two steps taken one after the other.
                let apart = Model.build [ c; h; w ] (Net.Lambda("relu", fun x -> torch.nn.functional.relu x) --> maxPool 2)
                let generator = new torch.Generator(uint64 seed)
                let values = windowValues [| int64 n; int64 c; int64 h; int64 w |] generator
                let recognised =
                    let rule = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.FreshOutput").GetMethod("ReluThenMaxPool")
                    (rule.Invoke(null, [| box (relu --> maxPool 2) |]) :?> bool[]) = [| true; false |]
                let run (model: Layers.Model) =
                    let input = values.clone().requires_grad_(true)
                    let output = model.Forward input
                    let weights = torch.randn(output.shape, generator = new torch.Generator(uint64 seed + 1UL))
                    output.backward([| weights.masked_fill(weights.abs().lt(torch.tensor 0.1f), TorchSharp.Scalar.op_Implicit -0.0f) |])
                    output, input.grad
                let outMerged, gradMerged = run merged
                let outApart, gradApart = run apart
                // Equal where both are numbers, NaN where either is NaN, and the same sign (of zeros too).
                let same (a: torch.Tensor) (b: torch.Tensor) =
                    a.shape = b.shape && (a.eq(b).logical_or(a.isnan().logical_and(b.isnan()))).all().item<bool>()
                    && a.signbit().eq(b.signbit()).all().item<bool>()
                recognised && same outMerged outApart && same gradMerged gradApart)
    ]

/// Max pooling runs on libtorch's channels-last kernel (PlanewiseMaxPoolModule); it must give what
/// max_pool2d gives, bit for bit, values and gradients, ties included (small integers tie often).
let maxPoolTests =
    testList "max pooling equals libtorch's max_pool2d" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 200 } "values and gradients, with and without autograd" <|
            Prop.forAll (Arb.fromGen (gen {
                let! n = Gen.choose (1, 4)
                let! c = Gen.oneof [ Gen.choose (1, 7); Gen.choose (16, 20) ] // both layouts the pool chooses between
                let! kernel = Gen.choose (1, 4)
                let! stride = Gen.choose (1, 4)
                let! padding = Gen.choose (0, kernel / 2)
                let! h = Gen.choose (kernel, 17)
                let! w = Gen.choose (kernel, 17)
                let! ceil = Gen.elements [ false; true ]
                let! seed = Gen.choose (0, 10000)
                return n, c, kernel, stride, padding, h, w, ceil, seed })) (fun (n, c, kernel, stride, padding, h, w, ceil, seed) ->
                use scope = torch.NewDisposeScope()
                let model = Model.build [ c; h; w ] (Net.MaxPool(int64 kernel, int64 stride, int64 padding, ceil))
                let generator = new torch.Generator(uint64 seed)
                let values = torch.randint(-3L, 4L, [| int64 n; int64 c; int64 h; int64 w |], generator = generator).to_type(torch.float32)
                let ours, theirs = values.clone().requires_grad_(true), values.clone().requires_grad_(true)
                let outOurs = model.Forward ours
                let outTheirs = torch.nn.functional.max_pool2d(theirs, int64 kernel, int64 stride, int64 padding, ceil_mode = ceil)
                let weights = torch.randn(outTheirs.shape, generator = generator)
                outOurs.mul(weights).sum().backward()
                outTheirs.mul(weights).sum().backward()
                let inference = (use _ = torch.no_grad() in model.Forward values)
                // The same values laid out channels-last, as Predict hands a convolutional model's batches on.
                let channelsLast = (use _ = torch.no_grad() in model.Forward(values.permute(0L, 2L, 3L, 1L).contiguous().permute(0L, 3L, 1L, 2L)))
                let same (a: torch.Tensor) (b: torch.Tensor) = a.shape = b.shape && a.equal(b).all().item<bool>()
                same outOurs outTheirs && same ours.grad theirs.grad && same inference outTheirs && same channelsLast outTheirs)
        // Training's 2×2 pools find their maxima eight windows at a time (WindowArgmax) and write their gradients back
        // the same way (WindowMaxPool), the planes shared among libtorch's threads above 32,768 elements: rows of every
        // width (whole eights, overlapping eights, under eight, whose extra lanes run into the rows after), odd heights
        // and widths, ties, NaN, -inf and -0.
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 200 } "2x2 windows in training: values and gradients, NaN and -inf included" <|
            Prop.forAll windowCases (fun (n, c, h, w, seed) ->
                use scope = torch.NewDisposeScope()
                let model = Model.build [ c; h; w ] (maxPool 2)
                let generator = new torch.Generator(uint64 seed)
                let values = windowValues [| int64 n; int64 c; int64 h; int64 w |] generator
                let ours, theirs = values.clone().requires_grad_(true), values.clone().requires_grad_(true)
                let outOurs = model.Forward ours
                let outTheirs = torch.nn.functional.max_pool2d(theirs, 2L, 2L)
                // Some output gradients −0, which max_pool2d's backward turns into +0 (it adds them to zero).
                let weights = torch.randn(outTheirs.shape, generator = generator)
                let weights = weights.masked_fill(weights.abs().lt(torch.tensor 0.1f), TorchSharp.Scalar.op_Implicit -0.0f)
                outOurs.backward([| weights |])
                outTheirs.backward([| weights |])
                // Equal where both are numbers, NaN where either is NaN; the gradients to the bit (the sign of zero too).
                let same (a: torch.Tensor) (b: torch.Tensor) =
                    a.shape = b.shape && (a.eq(b).logical_or(a.isnan().logical_and(b.isnan()))).all().item<bool>()
                same outOurs outTheirs && same ours.grad theirs.grad && ours.grad.signbit().eq(theirs.grad.signbit()).all().item<bool>())
        // The written-out training step hands a oneDNN convolution's output to the 2×2 pool after it channels-last, as
        // oneDNN wrote it, and takes the gradient back so (WindowMaxPool on a channels-last batch): the same maxima
        // (planes [N, C, OH, OW]) and gradients as max_pool2d's (after a ReLU, with the ReLU's), to the bit, for
        // channels in eights, odd sizes, ties, NaN, −inf and −0; the gradient comes back channels-last.
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 100 } "2x2 windows of a channels-last batch: values and gradients to the bit, with and without a ReLU" <|
            Prop.forAll (Arb.fromGen (gen {
                let! n = Gen.choose (1, 6)
                let! c = Gen.elements [ 8; 16; 24; 32 ]
                let! h = Gen.choose (2, 13)
                let! w = Gen.choose (2, 13)
                let! relu = Gen.elements [ false; true ]
                let! seed = Gen.choose (0, 10000)
                return n, c, h, w, relu, seed })) (fun (n, c, h, w, relu, seed) ->
                use scope = torch.NewDisposeScope()
                let pool = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.WindowMaxPool")
                let generator = new torch.Generator(uint64 seed)
                let values = windowValues [| int64 n; int64 c; int64 h; int64 w |] generator
                let channelsLast = values.permute(0L, 2L, 3L, 1L).contiguous().permute(0L, 3L, 1L, 2L)
                let takes = pool.GetMethod("TakesChannelsLast").Invoke(null, [| box channelsLast |]) :?> bool
                let struct (maxima: torch.Tensor, indices: torch.Tensor) =
                    pool.GetMethod("Pooled").Invoke(null, [| box channelsLast; box relu |]) :?> struct (torch.Tensor * torch.Tensor)
                let theirs = values.clone().requires_grad_(true)
                let outTheirs = torch.nn.functional.max_pool2d((if relu then theirs.relu() else theirs), 2L, 2L)
                let weights = torch.randn(outTheirs.shape, generator = generator)
                let weights = weights.masked_fill(weights.abs().lt(torch.tensor 0.1f), TorchSharp.Scalar.op_Implicit -0.0f)
                outTheirs.backward([| weights |])
                let gradient =
                    pool.GetMethod("Gradient").Invoke(null, [| box weights; box indices; box [| int64 n; int64 c; int64 h; int64 w |]; box (if relu then maxima else null) |]) :?> torch.Tensor
                let same (a: torch.Tensor) (b: torch.Tensor) =
                    a.shape = b.shape && (a.eq(b).logical_or(a.isnan().logical_and(b.isnan()))).all().item<bool>()
                let layout = typeof<Conv2d>.Assembly.GetType("NeuralVision.Tensors.MemoryLayout").GetMethod("IsChannelsLast")
                takes && indices.dim() = 4L && maxima.is_contiguous() && same maxima outTheirs
                && (layout.Invoke(null, [| box gradient |]) :?> bool) && same gradient theirs.grad
                && gradient.signbit().eq(theirs.grad.signbit()).all().item<bool>())
    ]

/// LeNet's first convolution, its ReLU and its pool in the written-out training step: the pool's windows found as the
/// convolution's sums leave the registers (DirectConvolution.ForwardPooled), for six channels at a time, two runs of
/// sixteen a row or one. Maxima and places must be those of the convolution with its ReLU and then the pool, to the bit:
/// small whole numbers in input and weights, so that ties are common, with NaN, −inf and −0 among the inputs.
let pooledConvolutionTests =
    testList "a direct convolution pooled as it is computed" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 100 } "gives the maxima and places of the convolution, its ReLU and the 2x2 pool, bit for bit" <|
            Prop.forAll (Arb.fromGen (gen {
                let! n = Gen.choose (1, 5)
                let! c = Gen.choose (1, 4)
                let! o = Gen.elements [ 6; 12; 18 ]
                let! k = Gen.choose (1, 5)
                let! halfHeight = Gen.choose (1, 8)
                let! halfWidth = Gen.choose (8, 16)
                // Padding that leaves the input at least one row high.
                let! padding = Gen.choose (0, min (k - 1) ((2 * halfHeight + k - 2) / 2))
                let! bias = Gen.elements [ true; false ]
                let! seed = Gen.choose (0, 10000)
                return n, c, o, k, padding, 2 * halfHeight + k - 1 - 2 * padding, 2 * halfWidth + k - 1 - 2 * padding, bias, seed })) (fun (n, c, o, k, padding, h, w, bias, seed) ->
                use scope = torch.NewDisposeScope()
                let direct = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.DirectConvolution")
                let pool = typeof<Conv2d>.Assembly.GetType("NeuralVision.Layers.WindowMaxPool")
                let generator = new torch.Generator(uint64 seed)
                let x = windowValues [| int64 n; int64 c; int64 h; int64 w |] generator
                let weight = torch.randint(-2L, 3L, [| int64 o; int64 c; int64 k; int64 k |], generator = generator).to_type(torch.float32)
                let b = if bias then torch.randint(-2L, 3L, [| int64 o |], generator = generator).to_type(torch.float32) else null
                let handles = (direct.GetMethod("HandlesPooled").Invoke(null, [| box x; box weight; box (int64 padding) |]) :?> bool)
                let struct (values: torch.Tensor, places: torch.Tensor, _: torch.Tensor) =
                    direct.GetMethod("ForwardPooled").Invoke(null, [| box x; box weight; box b; box (int64 padding) |]) :?> struct (torch.Tensor * torch.Tensor * torch.Tensor)
                let struct (output: torch.Tensor, _: torch.Tensor) =
                    direct.GetMethod("Forward").Invoke(null, [| box x; box weight; box b; box (int64 padding); box true |]) :?> struct (torch.Tensor * torch.Tensor)
                let struct (maxima: torch.Tensor, indices: torch.Tensor) =
                    pool.GetMethod("Pooled").Invoke(null, [| box output; box true |]) :?> struct (torch.Tensor * torch.Tensor)
                let same (a: torch.Tensor) (b: torch.Tensor) =
                    a.shape = b.shape && (a.eq(b).logical_or(a.isnan().logical_and(b.isnan()))).all().item<bool>()
                handles && same values maxima && values.signbit().eq(maxima.signbit()).all().item<bool>()
                && places.shape = indices.shape && places.equal(indices).all().item<bool>())
    ]

/// The largest difference between two outputs, relative to the largest value of the first.
let private relativeDifference (reference: torch.Tensor) (other: torch.Tensor) =
    float ((reference - other).abs().max().item<float32>() / reference.abs().max().item<float32>())

/// The output of a model in evaluation mode on the path training uses (the batch's own layout, nothing in place).
let private referenceOutput (model: Layers.Model) (x: torch.Tensor) =
    model.InEvaluationMode(fun () -> (use _ = torch.no_grad() in model.Forward x))

let inferenceTests =
    testList "inference rewrites give the outputs of the unchanged path" [
        testCase "ForInference folds every BatchNorm after a convolution into it; the model itself is unchanged" <| fun () ->
            use scope = torch.NewDisposeScope()
            Seed.set 3
            let model = Model.build [ 3; 32; 32 ] (Vision.ResNet.ResNet18 10)
            // Statistics and affine weights far from their initial values, so that folding has something to fold.
            model.Train()
            (use _ = torch.no_grad() in for _ in 1 .. 3 do model.Forward(torch.randn(8L, 3L, 32L, 32L) * 2.0 + 0.5) |> ignore)
            (use _ = torch.no_grad() in
                for p in model.Parameters do if p.Path.Contains "bn" then p.Value.copy_(torch.rand_like(p.Value) + 0.5) |> ignore)
            let x = torch.randn(4L, 3L, 32L, 32L)
            let before = referenceOutput model x
            let folded = model.ForInference()
            let norms (m: Layers.Model) = m.Rows |> Seq.filter (fun r -> r.Layer.StartsWith "batchNorm") |> Seq.length
            Expect.equal (norms model, norms folded) (20, 0) "all 20 BatchNorms of ResNet-18 follow a convolution and are folded"
            let difference = relativeDifference before (folded.Predict x)
            Expect.isLessThan difference 1e-5 "the folded model predicts what the model predicts, up to float rounding"
            Expect.isTrue ((referenceOutput model x).equal(before).all().item<bool>()) "the model keeps its own weights and statistics"
            Expect.isFalse folded.IsTraining "the folded model is in evaluation mode"

        testCase "Predict's channels-last layout and in-place ReLU and residual add match the training path and leave the batch alone" <| fun () ->
            use scope = torch.NewDisposeScope()
            Seed.set 4
            // A ReLU on the batch itself (must not run in place), a ReLU after a convolution and after a BatchNorm
            // (may), a residual body ending in a convolution (its add may run in place) and one ending in a ReLU (not),
            // a ReLU after each residual (may: a sum is a new tensor).
            let net =
                relu --> conv2dSame 8 3 --> relu --> residual (conv2dSame 8 3 --> batchNorm2d --> relu --> conv2dSame 8 3) --> relu
                --> residual (conv2dSame 8 3 --> relu) --> relu --> maxPool 2 --> flatten --> linear 5
            let model = Model.build [ 3; 12; 12 ] net
            let x = torch.randn(6L, 3L, 12L, 12L)
            let original = x.clone()
            let reference = referenceOutput model x
            let predicted = model.Predict x
            Expect.isLessThan (relativeDifference reference predicted) 1e-5 "the same outputs up to float rounding"
            Expect.isTrue (x.equal(original).all().item<bool>()) "the caller's batch is unchanged"
            Expect.isTrue ((model.Predict x).equal(predicted).all().item<bool>()) "a second prediction gives the same outputs (nothing the model keeps was overwritten)"

        testCase "ForInference predicts through oneDNN plans on this machine, with the outputs of the unchanged path" <| fun () ->
            use scope = torch.NewDisposeScope()
            Seed.set 6
            // ResNet-18 (Winograd convolutions, residual adds and ReLUs fused into them, projections, a 7x7 stem, global
            // pooling); ReLUs that cannot be fused (on the input, after a pool), pools with padding and in ceil mode, an
            // average pool; a perceptron on vectors, and one on images (the caller's batch flattened). Batch sizes 1 and
            // odd, each with a plan of its own.
            let pools =
                relu --> conv2dSame 16 3 --> relu --> Layers.Pool2d(Layers.PoolKind.Max, 3L, 2L, 1L, true) --> relu
                --> conv2d 8 3 --> avgPool 2 --> Layers.Pool2d(Layers.PoolKind.Max, 2L, 1L, 0L, true) --> flatten --> linear 5
            let cases =
                [ "ResNet-18", Model.build [ 3; 32; 32 ] (Vision.ResNet.ResNet18 10), [ 1L; 3L; 16L ]
                  "pools and ReLUs", Model.build [ 3; 15; 15 ] pools, [ 1L; 7L ]
                  "perceptron", Model.build [ 20 ] (linear 32 --> relu --> dropout 0.5 --> linear 4 --> relu), [ 1L; 9L ]
                  "perceptron on images", Model.build [ 1; 6; 6 ] (flatten --> linear 16 --> relu --> linear 3), [ 2L ] ]
            for name, model, sizes in cases do
                let folded = model.ForInference()
                Expect.stringStarts folded.InferenceEngine "oneDNN" $"{name}: every layer has a oneDNN operation ({folded.InferenceEngine})"
                for n in sizes do
                    let x = torch.randn(Array.append [| n |] (Array.ofSeq model.Input))
                    let original = x.clone()
                    let predicted = folded.Predict x
                    Expect.isLessThan (relativeDifference (referenceOutput folded x) predicted) 1e-5 $"{name}, batch {n}: the libtorch path's outputs"
                    Expect.isTrue (x.equal(original).all().item<bool>()) $"{name}, batch {n}: the caller's batch is unchanged"

        testCase "a model with a layer oneDNN plans lack predicts through libtorch and names the layer" <| fun () ->
            use scope = torch.NewDisposeScope()
            let model = Model.build [ 1; 6; 6 ] (conv2d 4 3 --> relu --> flatten --> linear 3 --> softmax)
            let folded = model.ForInference()
            Expect.stringStarts folded.InferenceEngine "libtorch" "not oneDNN"
            Expect.stringContains folded.InferenceEngine "'softmax' at '4'" "the layer and its path"
            let x = torch.randn(5L, 1L, 6L, 6L)
            Expect.isLessThan (relativeDifference (referenceOutput model x) (folded.Predict x)) 1e-6 "and it predicts"

        testCase "Predict on more samples than one slice gives the outputs of one pass over the whole batch" <| fun () ->
            use scope = torch.NewDisposeScope()
            Seed.set 5
            let model = Model.build [ 1; 8; 8 ] (conv2d 4 3 --> batchNorm2d --> relu --> maxPool 2 --> flatten --> linear 3)
            let n = 2L * Layers.Model.PredictionSlice + 7L
            let x = torch.randn(n, 1L, 8L, 8L)
            let predicted = model.Predict x
            Expect.sequenceEqual predicted.shape [| n; 3L |] "one output per sample, in order"
            Expect.isLessThan (relativeDifference (referenceOutput model x) predicted) 1e-5 "three slices (the last of 7) give the whole batch's outputs"
    ]

/// Random pipelines over images: convolutions, pools, activations, norms, then a head.
let private genPipeline : Gen<Layer> =
    let imageLayer =
        Gen.oneof [
            gen { let! c = Gen.choose (1, 6) in let! k = Gen.elements [ 1; 3 ] in return Net.Conv2d(int64 c, int64 k, padding = int64 (k / 2)) }
            gen { let! c = Gen.choose (1, 6) in return Net.Conv2d(int64 c, 3L, stride = 2L, padding = 1L) }
            Gen.constant relu; Gen.constant tanh; Gen.constant batchNorm2d; Gen.constant (dropout2d 0.2)
            Gen.constant (maxPool 2); Gen.constant (avgPool 2); Gen.constant (upsample 2)
            gen { let! c = Gen.choose (1, 4) in return conv2dSame (4 * c) 3 --> pixelShuffle 2 }
            gen { let! c = Gen.choose (1, 4) in return residualWith (Net.Conv2d(int64 c, 1L)) (conv2dSame c 3 --> relu) }
            gen { let! a = Gen.choose (1, 3) in let! b = Gen.choose (1, 3) in return concat [ conv2dSame a 3; conv2dSame b 1 ] }
            Gen.constant (skip (conv2dSame 2 3))
        ]
    let head =
        Gen.oneof [
            Gen.constant (flatten --> linear 5)
            Gen.constant (globalAvgPool --> linear 3 --> softmax)
            Gen.constant (adaptiveAvgPool 2 2 --> flatten --> dropout 0.5 --> linear 4)
            Gen.constant (heads [ flatten --> linear 2; flatten --> linear 3 ])
        ]
    gen {
        let! n = Gen.choose (1, 5)
        let! body = Gen.listOfLength n imageLayer
        let! h = head
        return (body @ [ h ]) |> List.reduce (-->)
    }

let propertyTests =
    let config = { FsCheckConfig.defaultConfig with maxTest = 60 }
    testList "combinator laws" [
        testPropertyWithConfig config "sequence is associative" <|
            Prop.forAll (Arb.fromGen (Gen.three genPipeline)) (fun (a, b, c) -> ((a --> b) --> c) = (a --> (b --> c)))
        test "shape inference agrees with the real forward pass on 80 random pipelines" {
            let cases = Gen.sample 80 (Gen.zip genPipeline (Gen.choose (4, 12)))
            let built =
                [ for pipeline, size in cases do
                      match (try Some (Model.build [ 3; size; size ] pipeline) with :? ShapeException -> None) with
                      | Some model -> yield pipeline, model
                      | None -> () ]
            // Some pipelines shrink a small image too far and are refused; most must build.
            Expect.isGreaterThan built.Length 40 $"only {built.Length} of 80 pipelines built"
            for pipeline, model in built do
                Expect.equal (realShape model) (List.ofSeq model.Output) $"{pipeline} on {model.Input}"
        }
        testPropertyWithConfig config "summary parameter totals equal the built parameters" <|
            Prop.forAll (Arb.fromGen genPipeline) (fun pipeline ->
                match (try Some (Model.build [ 3; 16; 16 ] pipeline) with :? ShapeException -> None) with
                | Some model ->
                    let built = model.Parameters |> Seq.sumBy (fun p -> p.Value.numel())
                    let rows = model.Rows |> Seq.sumBy (fun r -> r.Parameters)
                    rows = built && model.ParameterCount = built
                | None -> true)
        test "a residual around a zero-weight layer is the identity" {
            let model = Model.build [ 4; 5; 5 ] (residual (conv2dSame 4 3))
            use _ = torch.no_grad()
            for p in model.Parameters do p.Value.zero_() |> ignore
            use x = torch.randn([| 2L; 4L; 5L; 5L |])
            use y = model.Forward x
            Expect.equal (x.sub(y).abs().max().item<float32>()) 0.f "f(x) + x with f = 0"
        }
    ]

let treeTests =
    let autoencoder = named "encoder" (flatten --> linear 16 --> relu --> linear 4) --> named "decoder" (linear 16 --> relu --> linear 784)
    testList "the layer tree" [
        test "one walk gives the summary's paths, for every combinator" {
            let unet = conv2dSame 4 3 --> skip (maxPool 2 --> conv2dSame 4 3 --> upsample 2) --> heads [ flatten --> linear 3; globalAvgPool ]
            for net, input in [ Vision.ResNet.ResNet18 10, [ 3; 32; 32 ]; Vision.GoogLeNet.Create 10, [ 3; 64; 64 ]; unet, [ 3; 8; 8 ]; autoencoder, [ 1; 28; 28 ] ] do
                let model = Model.build input net
                Expect.equal [ for path, _ in LayerTree.Leaves net -> path ] [ for r in model.Rows -> r.Path ] $"{net}: leaves in summary order"
        }
        test "a part is reachable by name, and an unknown name is refused with the names there are" {
            Expect.equal (LayerTree.At(autoencoder, "encoder")) (flatten --> linear 16 --> relu --> linear 4) "the encoder's value"
            Expect.equal (LayerTree.At(autoencoder, "decoder.2")) (linear 784) "a layer inside it by index"
            let e = Expect.throwsC (fun () -> LayerTree.At(autoencoder, "encoderr") |> ignore) id
            Expect.stringContains e.Message "no layer at path 'encoderr'; the paths are: encoder, encoder.0" "names the paths"
        }
        test "the autoencoder's encoder in one expression: a part of the built model, sharing its weights" {
            Seed.set 2
            let model = Model.build [ 1; 28; 28 ] autoencoder
            let x = torch.rand(5L, 1L, 28L, 28L)
            let encoder = model.Part "encoder"
            Expect.equal (List.ofSeq encoder.Output) [ 4L ] "the code's shape"
            let codes = encoder.Predict x
            let byHand = (TorchSharpEscape.Module model).named_children() |> Seq.find (fun struct (n, _) -> n = "encoder") |> fun struct (_, m) -> (m :?> torch.nn.Module<torch.Tensor, torch.Tensor>)
            model.Eval()
            Expect.isTrue (codes.eq(byHand.forward x).all().item<bool>()) "the same codes as the encoder module inside the model"
            Expect.equal encoder.ParameterCount (784L * 16L + 16L + 16L * 4L + 4L) "the encoder's parameters only"
            Expect.equal [ for r in encoder.Rows -> r.Path ] [ "0"; "1"; "2"; "3" ] "paths relative to the part"
            use _ = torch.no_grad()
            for p in model.Parameters do p.Value.add_(torch.tensor 1.0f) |> ignore
            Expect.isFalse ((encoder.Predict x).eq(codes).all().item<bool>()) "changing the model's weights changes the part's: they are shared"
        }
        test "a pipeline model sliced by index shares its weights; a layer sequence slices with ranges" {
            let model = Model.build [ 1; 28; 28 ] (flatten --> linear 16 --> relu --> linear 4 --> sigmoid)
            let features = model.Slice(0, 3)
            Expect.equal (List.ofSeq features.Output) [ 16L ] "flatten, linear, relu"
            let x = torch.rand(3L, 1L, 28L, 28L)
            let whole = model.Predict x
            let rest = model.Slice(3, 5)
            Expect.isTrue ((rest.Predict(features.Predict x)).allclose(whole)) "the two slices compose to the whole"
            let seq = Sequence.Of(flatten, linear 16, relu)
            Expect.equal (seq.[1..2]) (Sequence.Of(linear 16, relu)) "F# slicing of a sequence"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> model.Slice(2, 9) |> ignore) "a range past the end is refused"
        }
        test "squeeze-and-excitation: x times a per-channel gate, with its summary, paths, freezing and shape checks" {
            Seed.set 5
            let se = Layers.SqueezeExcite.Of(8L, 2L)
            let model = Model.build [ 8; 6; 6 ] (conv2dSame 8 3 --> se)
            Expect.equal [ for r in model.Rows -> r.Path ] [ "0"; "1.gate.0"; "1.gate.1"; "1.gate.2"; "1.gate.3"; "1.gate.4" ] "the gate's layers in the summary"
            Expect.stringContains (model.Summary()) "total params: 660" "conv 8·8·9+8 = 584, gate 8·4+4 + 4·8+8 = 76"
            let x = torch.rand(2L, 8L, 6L, 6L)
            let y = model.Predict x
            let features = (model.Slice(0, 1)).Predict x
            let gate = (model.Part "1.gate").Predict features
            Expect.equal (List.ofArray gate.shape) [ 2L; 8L; 1L; 1L ] "one factor per channel"
            Expect.isTrue (y.allclose(features.mul gate, 1e-6, 1e-6)) "the output is the features times the gate"
            Expect.equal (model.FreezeInPlace "1.gate") 76L "the gate's parameters freeze by path"
            let e = shapeError [ 3; 6; 6 ] (Layers.SqueezeExcite.Of(8L, 2L))
            Expect.stringContains e.Message "a factor that broadcasts over 3x6x6; it is 8x1x1" "a gate of the wrong width is a shape error at build time"
        }
        test "rewriting the tree: replace a part by path, map over every layer" {
            let replaced = LayerTree.Replace(autoencoder, "decoder", linear 784)
            Expect.equal (LayerTree.At(replaced, "decoder")) (linear 784) "the decoder replaced, its name kept"
            let leaky = LayerTree.Map(autoencoder, fun _ l -> if l = relu then leakyRelu 0.1 else l)
            Expect.equal [ for _, l in LayerTree.Leaves leaky do if l = leakyRelu 0.1 then yield l ] [ leakyRelu 0.1; leakyRelu 0.1 ] "both ReLUs replaced"
            Expect.equal (Model.build [ 1; 28; 28 ] leaky).ParameterCount (Model.build [ 1; 28; 28 ] autoencoder).ParameterCount "the same parameters"
        }
    ]

let tests = testList "layers" [ valueTests; summaryTests; errorTests; convArithmeticTests; directConvolutionTests; oneDnnConvolutionTests; convolutionReluTests; reluMaxPoolTests; maxPoolTests; pooledConvolutionTests; inferenceTests; propertyTests; treeTests ]
