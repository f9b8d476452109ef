/// The architectures: torchvision's parameter counts, and the same function as torchvision's own
/// modules (weights copied in parameter order, same outputs).
module NeuralVision.Tests.VisionTests

open Expecto
open TorchSharp
open NeuralVision
open NeuralVision.Layers
open NeuralVision.Vision

let private count name classes =
    let struct (layer, input) = Architectures.Get(name, classes)
    (Model.Build(layer, Shape(input), torch.CPU)).ParameterCount

/// Copies `source`'s parameters and buffers into `target`'s, pairing them in registration order.
let private copyInOrder (source: torch.nn.Module) (target: torch.nn.Module) =
    use _ = torch.no_grad()
    let pairs (m: torch.nn.Module) = [ yield! m.parameters() |> Seq.map (fun p -> p :> torch.Tensor); yield! m.buffers() ]
    let from, into = pairs source, pairs target
    Expect.equal into.Length from.Length "the same number of parameters and buffers"
    for s, t in List.zip from into do
        Expect.equal (List.ofArray t.shape) (List.ofArray s.shape) "shapes pair up in order"
        t.copy_(s) |> ignore

let private sameFunction (theirs: torch.nn.Module<torch.Tensor, torch.Tensor>) (ours: Layer) (input: int64 list) =
    let model = Model.Build(ours, Shape(Array.ofList input), torch.CPU)
    copyInOrder theirs (TorchSharpEscape.Module model)
    theirs.eval()
    model.Eval()
    use _ = torch.no_grad()
    torch.manual_seed 11L |> ignore
    use x = torch.randn([| yield 2L; yield! input |])
    use expected = theirs.forward x
    use actual = model.Forward x
    actual.sub(expected).abs().max().item<float32>() |> float

let private small = ResNet.Create([| 1; 1; 1; 1 |], false, 10)

let private values (model: Layers.Model) (prefix: string) =
    [ for KeyValue(name, t) in (TorchSharpEscape.Module model).state_dict() do
        if Model.PathStartsWith(name, prefix) then t.detach().clone() ]

let private unchanged (before: torch.Tensor list) (after: torch.Tensor list) =
    List.forall2 (fun (a: torch.Tensor) (b: torch.Tensor) -> a.to_type(torch.float64).sub(b.to_type(torch.float64)).abs().max().item<float>() = 0.0) before after

let transferTests =
    testList "transfer learning" [
        test "frozen layers and their BatchNorm statistics stay as they were; the rest trains" {
            let model = Model.Build(small, Shape(3L, 32L, 32L), torch.CPU)
            let frozen = model.FreezeInPlace "layer1"
            Expect.isGreaterThan frozen 0L "layer1 has parameters"
            Expect.equal model.TrainableCount (model.ParameterCount - frozen) "summary's trainable column agrees"
            let before1, beforeFc = values model "layer1", values model "fc"
            let state = Training.Train.Start(model, Optim.Adam(0.01), Losses.Loss.CrossEntropy())
            Training.Train.Step(state, new Data.Batch(torch.randn(8L, 3L, 32L, 32L), torch.randint(10L, [| 8L |]))) |> ignore
            Expect.isTrue (unchanged before1 (values model "layer1")) "layer1: weights and running statistics unchanged"
            Expect.isFalse (unchanged beforeFc (values model "fc")) "fc trained"
            model.UnfreezeInPlace "layer1" |> ignore
            Expect.equal model.TrainableCount model.ParameterCount "unfrozen again"
        }
        test "parameter groups: the head learns at its own rate" {
            let model = Model.Build(small, Shape(3L, 32L, 32L), torch.CPU)
            let state = Training.Train.Start(model, Optim.Sgd(0.1, Momentum = 0.9), Losses.Loss.CrossEntropy(), groups = [| struct ("fc", 1e-2); struct ("", 1e-4) |])
            Expect.equal (List.ofSeq state.LearningRates) [ 1e-2; 1e-4 ] "two groups"
            let fcCount = model.Rows |> Seq.filter (fun r -> r.Path = "fc") |> Seq.sumBy _.Parameters
            Expect.equal fcCount (512L * 10L + 10L) "fc is 512 → 10"
        }
        test "a new head on a trained network: everything but the head is carried over" {
            let trained = Model.Build(small, Shape(3L, 32L, 32L), torch.CPU)
            let renewed = Model.Build(Transfer.ReplaceHead(small, Net.Linear(2L)), Shape(3L, 32L, 32L), torch.CPU)
            let skipped = Transfer.CopyMatching(trained, renewed)
            Expect.equal (List.ofSeq skipped) [ "fc.weight"; "fc.bias" ] "only the head's weights stay new"
            Expect.equal (List.ofSeq renewed.Output) [ 2L ] "two classes now"
            Expect.isTrue (unchanged (values trained "layer4") (values renewed "layer4")) "the backbone is the trained one"
        }
    ]

/// A photo resized to 224×224 as RGB floats 0..255, [1, 3, 224, 224].
let private photo name =
    let pixels = Data.ImageFolder.ReadResized(Data.Sklearn.Photo name, 224, 224)
    Array.map float32 pixels

let private runOnnx (path: string) (inputName: string) (data: float32[]) (shape: int[]) =
    use session = new Microsoft.ML.OnnxRuntime.InferenceSession(path)
    let input = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float32>(System.Memory<float32>(data), System.ReadOnlySpan<int>(shape))
    use results = session.Run([ Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(inputName, input) ])
    (Seq.head results).AsTensor<float32>() |> Seq.toArray

let onnxTests =
    testList "pretrained ResNet-18 from ONNX" [
        test "the imported backbone equals ONNX Runtime on real photos (max |diff| < 1e-4)" {
            let import = Pretrained.ResNet18Backbone()
            let model = import.Build()
            model.Eval()
            for name in [ "china.jpg"; "flower.jpg" ] do
                let prepared = runOnnx Pretrained.PreprocessOnnxPath "OriginalInput" (photo name) [| 1; 3; 224; 224 |]
                let expected = runOnnx Pretrained.ResNet18OnnxPath "Input247" prepared [| 1; 3; 224; 224 |]
                use _ = torch.no_grad()
                use x = torch.tensor(prepared, System.ReadOnlySpan [| 1L; 3L; 224L; 224L |])
                let actual = model.Forward(x).data<float32>().ToArray()
                Expect.equal actual.Length expected.Length "512 features"
                let diff = Array.map2 (fun (a: float32) b -> abs (a - b)) actual expected |> Array.max
                Expect.isLessThan diff 1e-4f $"{name}: max |difference| {diff}"
                Expect.isGreaterThan (Array.max expected) 0.1f "real, non-trivial features"
        }
        test "the import is a DSL pipeline of residual blocks with trainable parameters" {
            let import = Pretrained.ResNet18Backbone()
            let model = import.Build()
            Expect.equal (string import.Input) "3x224x224" "the graph's input"
            Expect.equal model.TrainableCount model.ParameterCount "all trainable"
            Expect.isTrue (model.Rows |> Seq.exists (fun r -> r.Path.Contains ".projection.")) "projected shortcuts became Residual projections"
        }
    ]

let pyTorchTests =
    testList "PyTorch state dicts" [
        test "a state dict in PyTorch's format loads into the DSL ResNet-18 by name" {
            Files.inTempDir (fun dir ->
                // torchvision's (.NET) ResNet-18 written as torch.save(model.state_dict()) would write it.
                let theirs = torchvision.models.resnet18()
                let path = System.IO.Path.Combine(dir, "resnet18.pth")
                TorchSharp.PyBridge.PyBridgeModuleExtensions.save_py(theirs, path) |> ignore
                let ours = Model.Build(ResNet.ResNet18(), Shape(3L, 64L, 64L), torch.CPU)
                NeuralVision.Training.Checkpoint.LoadPyTorch(ours, path, System.Func<string, string>(ResNet.TorchvisionName))
                theirs.eval()
                ours.Eval()
                use _ = torch.no_grad()
                use x = torch.randn(2L, 3L, 64L, 64L)
                let diff = ours.Forward(x).sub(theirs.forward x).abs().max().item<float32>()
                Expect.isLessThan diff 1e-5f $"same outputs, max |difference| {diff}"
                let other = Model.Build(ResNet.ResNet34(), Shape(3L, 64L, 64L), torch.CPU)
                let e = Expect.throwsC (fun () -> NeuralVision.Training.Checkpoint.LoadPyTorch(other, path, System.Func<string, string>(ResNet.TorchvisionName))) id
                Expect.stringContains e.Message "missing layer1.2" "a ResNet-34 is told what the file lacks")
        }
    ]

/// Exports a model, runs the file in ONNX Runtime, and returns max |ours − ORT| on a random batch of 2.
let private exportDifference (layer: Layer) (input: int64 list) =
    let model = Model.Build(layer, Shape(Array.ofList input), torch.CPU)
    // Non-trivial BatchNorm statistics, so that exporting them is actually checked.
    model.Train()
    use _ = torch.no_grad()
    for _ in 1 .. 3 do model.Forward(torch.randn([| yield 4L; yield! input |])) |> ignore
    model.Eval()
    Files.inTempDir (fun dir ->
        let path = System.IO.Path.Combine(dir, "model.onnx")
        OnnxExport.Save(model, path)
        use x = torch.rand([| yield 2L; yield! input |])
        let ours = model.Forward(x).data<float32>().ToArray()
        let theirs = runOnnx path "input" (x.data<float32>().ToArray()) [| yield 2; yield! input |> List.map int |]
        Expect.equal theirs.Length ours.Length "same output size"
        Array.map2 (fun (a: float32) b -> abs (a - b)) ours theirs |> Array.max)

let exportTests =
    testList "ONNX export, checked in ONNX Runtime" [
        test "LeNet (the course's: tanh, average pooling)" {
            let diff = exportDifference (LeNet.Classic 10) [ 1L; 28L; 28L ]
            Expect.isLessThan diff 1e-4f $"max |difference| {diff}"
        }
        test "ResNet-18" {
            let diff = exportDifference (ResNet.ResNet18 10) [ 3L; 64L; 64L ]
            Expect.isLessThan diff 1e-4f $"max |difference| {diff}"
        }
        test "GoogLeNet (auxiliary heads left out, as in evaluation)" {
            let diff = exportDifference (GoogLeNet.Create 10) [ 3L; 96L; 96L ]
            Expect.isLessThan diff 1e-4f $"max |difference| {diff}"
        }
        test "upsampling, pixel shuffle, skips, heads, softmax, leaky ReLU, sigmoid, dropout, reshape" {
            let net =
                Net.Conv2d(4L, 3L, padding = 1L) --> leakyRelu 0.1 --> skip (maxPool 2 --> conv2dSame 4 3 --> upsample 2)
                --> conv2dSame 8 3 --> pixelShuffle 2 --> upsampleBilinear 2 --> avgPool 4 --> dropout2d 0.2 --> sigmoid
                --> heads [ flatten --> linear 3 --> softmax; globalAvgPool --> reshape [ 2; 1 ] --> flatten --> dropout 0.5 ]
            let diff = exportDifference net [ 3L; 16L; 16L ]
            Expect.isLessThan diff 1e-4f $"max |difference| {diff}"
        }
        test "squeeze-and-excitation, a combinator written only as children and a wiring" {
            let net = conv2dSame 16 3 --> relu --> Layers.SqueezeExcite.Of(16L, 4L) --> residual (Layers.SqueezeExcite.Of(16L, 4L)) --> globalAvgPool --> linear 5
            let diff = exportDifference net [ 3L; 12L; 12L ]
            Expect.isLessThan diff 1e-5f $"max |difference| {diff}"
        }
        test "a lambda layer is refused by name" {
            let model = Model.Build(Net.Linear(2L).Then(Net.Lambda("double", System.Func<_, _>(fun (x: torch.Tensor) -> x.mul(torch.tensor 2.f)))), Shape(3L), torch.CPU)
            Files.inTempDir (fun dir ->
                let path = System.IO.Path.Combine(dir, "lambda.onnx")
                let e = Expect.throwsC (fun () -> OnnxExport.Save(model, path)) id
                Expect.stringContains e.Message "'double'" "names the layer"
                Expect.isFalse (System.IO.File.Exists path) "no file is left")
        }
    ]

let tests =
    testSequenced (testList "vision" [
        exportTests
        pyTorchTests
        transferTests
        onnxTests
        test "parameter counts equal torchvision's at 1,000 classes" {
            Expect.equal (count "alexnet" 1000) 61100840L "AlexNet"
            Expect.equal (count "vgg16" 1000) 138357544L "VGG-16"
            Expect.equal (count "googlenet" 1000) 6624904L "GoogLeNet without aux heads"
            Expect.equal (count "resnet18" 1000) 11689512L "ResNet-18"
            Expect.equal (count "resnet34" 1000) 21797672L "ResNet-34"
            Expect.equal (count "resnet50" 1000) 25557032L "ResNet-50"
            Expect.equal (count "lenet" 10) 61706L "the course's LeNet-5"
        }
        test "ResNet-18 computes what torchvision's does (weights copied in order)" {
            let diff = sameFunction (torchvision.models.resnet18()) (ResNet.ResNet18()) [ 3L; 64L; 64L ]
            Expect.isLessThan diff 1e-5 $"max |difference| {diff}"
        }
        test "AlexNet computes what torchvision's does (weights copied in order)" {
            let diff = sameFunction (torchvision.models.alexnet()) (AlexNet.Create()) [ 3L; 96L; 96L ]
            Expect.isLessThan diff 1e-5 $"max |difference| {diff}"
        }
        test "GoogLeNet's auxiliary heads add outputs in training only, and their loss is weighted in" {
            let model = Model.Build(GoogLeNet.Create(10), Shape(3L, 96L, 96L), torch.CPU)
            use x = torch.randn(2L, 3L, 96L, 96L)
            model.Train()
            use trainOut = model.Forward x
            Expect.equal (List.ofArray trainOut.shape) [ 2L; 30L ] "main + two auxiliary heads in training"
            model.Eval()
            use evalOut = model.Forward x
            Expect.equal (List.ofArray evalOut.shape) [ 2L; 10L ] "main only in evaluation"
            let loss = Losses.Loss.WithAuxiliary(Losses.Loss.CrossEntropy(), 10, 0.3)
            use labels = torch.tensor([| 1L; 2L |])
            let parts = [| for i in 0L .. 2L -> trainOut.narrow(1L, 10L * i, 10L) |]
            let ce (o: torch.Tensor) = torch.nn.functional.cross_entropy(o, labels).item<float32>() |> float
            let expected = ce parts.[0] + 0.3 * (ce parts.[1] + ce parts.[2])
            Expect.floatClose Accuracy.medium (loss.Compute(trainOut, labels).item<float32>() |> float) expected "main + 0.3 · aux"
        }
    ])
