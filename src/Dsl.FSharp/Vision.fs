/// The course's architectures and transfer learning, from F#.
namespace NeuralVision

open NeuralVision.Vision

/// Architectures as layer values.
[<RequireQualifiedAccess>]
module Architectures =
    /// The course's LeNet-5 (tanh, average pooling, padding 2 on 28×28).
    let lenet (classes: int) : Layer = LeNet.Classic classes
    /// LeNet-5 with ReLU and max-pooling.
    let lenetRelu (classes: int) : Layer = LeNet.Modern classes
    /// AlexNet.
    let alexnet (classes: int) : Layer = AlexNet.Create classes
    /// VGG-16.
    let vgg16 (classes: int) : Layer = Vgg.Create(Vgg.Vgg16, classes)
    /// GoogLeNet with its two auxiliary heads (train with `Loss.WithAuxiliary`).
    let googlenet (classes: int) : Layer = GoogLeNet.Create classes
    /// ResNet-18.
    let resnet18 (classes: int) : Layer = ResNet.ResNet18 classes
    /// ResNet-50.
    let resnet50 (classes: int) : Layer = ResNet.ResNet50 classes
    /// Any of them by name, with the input shape it was designed for (e.g. [3; 224; 224]).
    let withInput (name: string) (classes: int) : Layer * int list =
        let struct (layer, input) = Architectures.Get(name, classes)
        layer, input |> Array.map int |> List.ofArray
    /// Any of them by name (as `nv summary` knows them).
    let byName (name: string) (classes: int) : Layer = withInput name classes |> fst

/// Transfer learning.
[<RequireQualifiedAccess>]
module Transfer =
    /// Freezes, in place, the layers under a path prefix ("" = all); returns the same (changed) model.
    let freezeInPlace (pathPrefix: string) (model: Layers.Model) : Layers.Model = model.FreezeInPlace pathPrefix |> ignore; model
    /// Makes the layers under a path prefix trainable again, in place; returns the same (changed) model.
    let unfreezeInPlace (pathPrefix: string) (model: Layers.Model) : Layers.Model = model.UnfreezeInPlace pathPrefix |> ignore; model
    /// The pipeline with its last layer replaced.
    let replaceHead (head: Layer) (net: Layer) : Layer = Vision.Transfer.ReplaceHead(net, head)
    /// Copies the weights that match by name and shape; returns the names left out.
    let copyMatching (from: Layers.Model) (into: Layers.Model) : string list = Vision.Transfer.CopyMatching(from, into) |> List.ofSeq
    /// Freezes, in place, the layers of the summary rows `pick` chooses (e.g. every BatchNorm); returns the same model.
    let freezeWhere (pick: Layers.LayerRow -> bool) (model: Layers.Model) : Layers.Model = model.FreezeInPlace(System.Func<_, _> pick) |> ignore; model
    /// The number of trainable parameter values.
    let trainableCount (model: Layers.Model) : int64 = model.TrainableCount
    // One learning rate per path prefix is a training option: `{ Train.defaults with Groups = [ "fc", 1e-3; "", 1e-4 ] }`.

/// ONNX in and out, and pretrained weights.
[<RequireQualifiedAccess>]
module Onnx =
    /// Writes a built model to ONNX (as it computes in evaluation mode).
    let export (path: string) (model: Layers.Model) : unit = OnnxExport.Save(model, path)
    /// Reads a convolutional ONNX graph into a built DSL model with its weights.
    let import (path: string) : Layers.Model = OnnxImport.Read(path).Build()
    /// The ImageNet-pretrained ResNet-18 (offline, from the ML.NET package) with a new `classes`-way head, for RGB inputs in 0..1.
    let pretrainedResNet18 (classes: int) (input: int list) : Layers.Model =
        Pretrained.ResNet18Classifier(classes, Layers.Shape(input |> List.map int64 |> Array.ofList))
    /// Loads a PyTorch state dict (torch.save(model.state_dict())) by name, renaming ours with `rename`.
    let loadPyTorch (rename: string -> string) (path: string) (model: Layers.Model) : unit =
        Training.Checkpoint.LoadPyTorch(model, path, System.Func<_, _> rename)
