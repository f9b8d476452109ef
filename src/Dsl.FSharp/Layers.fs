/// Layers as values and models as pipelines: `conv2d 6 5 --> tanh --> avgPool 2 --> flatten --> linear 10`.
/// Every function returns an immutable layer value; `Model.build` resolves all sizes against an input shape.
/// Options beyond the common ones are named arguments, e.g. `Layer.Conv2d(16, 3, stride = 2, padding = 1, bias = false)`.
namespace NeuralVision

open NeuralVision.Layers

type Layer = Layers.Layer
type Shape = Layers.Shape

[<AutoOpen>]
module Dsl =
    /// `a --> b`: b applied to a's output. Associative: nested pipelines are flattened.
    let (-->) (a: Layer) (b: Layer) : Layer = Pipelines.Then(a, b)

    /// Fully connected layer with `n` outputs (its inputs are inferred).
    let linear (n: int) : Layer = Net.Linear(int64 n)
    /// 2-D convolution: `out` channels, `kernel`×`kernel` window, stride 1, no padding.
    let conv2d (out: int) (kernel: int) : Layer = Net.Conv2d(int64 out, int64 kernel)
    /// 2-D convolution keeping the size: padding (kernel − 1) / 2, for odd kernels.
    let conv2dSame (out: int) (kernel: int) : Layer = Net.Conv2d(int64 out, int64 kernel, padding = int64 ((kernel - 1) / 2))
    /// Transposed convolution: `out` channels, `kernel` window, `stride` (the upsampling factor).
    let convTranspose2d (out: int) (kernel: int) (stride: int) : Layer = Net.ConvTranspose2d(int64 out, int64 kernel, stride = int64 stride)
    /// Max pooling over `k`×`k` windows with stride `k`.
    let maxPool (k: int) : Layer = Net.MaxPool(int64 k)
    /// Average pooling over `k`×`k` windows with stride `k`.
    let avgPool (k: int) : Layer = Net.AvgPool(int64 k)
    /// Average pooling to an `h`×`w` output.
    let adaptiveAvgPool (h: int) (w: int) : Layer = Net.AdaptiveAvgPool(int64 h, int64 w)
    /// Per-channel mean: [C; H; W] → [C].
    let globalAvgPool : Layer = Net.GlobalAvgPool()
    /// [C; H; W] → [C·H·W].
    let flatten : Layer = Net.Flatten()
    /// A new per-sample shape (one −1 allowed).
    let reshape (dims: int list) : Layer = Net.Reshape(dims |> List.map int64 |> Array.ofList)
    /// Dropout of values with probability `p` (training only).
    let dropout (p: float) : Layer = Net.Dropout p
    /// Dropout of whole channels with probability `p` (training only).
    let dropout2d (p: float) : Layer = Net.Dropout2d p
    /// Batch normalisation of features.
    let batchNorm1d : Layer = Net.BatchNorm1d()
    /// Batch normalisation of image channels.
    let batchNorm2d : Layer = Net.BatchNorm2d()
    /// Layer normalisation over the last dimension.
    let layerNorm : Layer = Net.LayerNorm()
    /// max(0, x).
    let relu : Layer = Net.ReLU()
    /// Leaky ReLU with negative slope `slope`.
    let leakyRelu (slope: float) : Layer = Net.LeakyReLU slope
    /// The logistic sigmoid.
    let sigmoid : Layer = Net.Sigmoid()
    /// The hyperbolic tangent as a layer (this shadows F#'s `tanh` on floats: use `System.Math.Tanh` there).
    let tanh : Layer = Net.Tanh()
    /// GELU.
    let gelu : Layer = Net.GELU()
    /// Softmax over features.
    let softmax : Layer = Net.Softmax()
    /// Log-softmax over features (for NLL loss).
    let logSoftmax : Layer = Net.LogSoftmax()
    /// Nearest-neighbour upsampling by `scale`.
    let upsample (scale: int) : Layer = Net.Upsample(int64 scale)
    /// Bilinear upsampling by `scale`.
    let upsampleBilinear (scale: int) : Layer = Net.Upsample(int64 scale, UpsampleMode.Bilinear)
    /// [C·r²; H; W] → [C; H·r; W·r].
    let pixelShuffle (r: int) : Layer = Net.PixelShuffle(int64 r)
    /// The identity.
    let identity : Layer = Net.Identity()
    /// A layer from any tensor function (batch first), named `name` in summaries.
    let lambda (name: string) (f: Tensor -> Tensor) : Layer = Net.Lambda(name, System.Func<_, _> f)
    /// Parallel branches on the same input, concatenated along channels (Inception).
    let concat (branches: Layer list) : Layer = Net.Concat(Array.ofList branches)
    /// body(x) + x.
    let residual (body: Layer) : Layer = Net.Residual body
    /// body(x) + projection(x), for bodies that change the shape.
    let residualWith (projection: Layer) (body: Layer) : Layer = Net.Residual(body, projection)
    /// cat(x, inner(x)) along channels: U-Net's skip connection.
    let skip (inner: Layer) : Layer = Net.Skip inner
    /// Several heads on the same input, outputs flattened and concatenated (e.g. class + box).
    let heads (hs: Layer list) : Layer = Net.Heads(Array.ofList hs)
    /// The layer under a name of its own (its path segment and parameter prefix).
    let named (name: string) (layer: Layer) : Layer = Net.Named(name, layer)

/// Layers with their options as named arguments, in plain ints and floats: `Layer.Conv2d(6, 5, padding = 2)`,
/// `Layer.Linear(10, bias = false)`, `Layer.MaxPool(3, stride = 2, padding = 1)`. Each option left out takes
/// PyTorch's default; the DSL's `conv2d 6 5` is `Layer.Conv2d(6, 5)`.
[<AutoOpen>]
module LayerOptions =
    let private opt (value: int option) (fallback: int64) = value |> Option.map int64 |> Option.defaultValue fallback

    type Layers.Layer with
        /// Fully connected layer with `outFeatures` outputs; `bias = false` leaves out the bias.
        static member Linear(outFeatures: int, ?bias: bool) : Layer = Net.Linear(int64 outFeatures, defaultArg bias true)
        /// 2-D convolution: `outChannels` filters of `kernel`×`kernel`.
        static member Conv2d(outChannels: int, kernel: int, ?stride: int, ?padding: int, ?dilation: int, ?groups: int, ?bias: bool) : Layer =
            Net.Conv2d(int64 outChannels, int64 kernel, opt stride 1L, opt padding 0L, opt dilation 1L, opt groups 1L, defaultArg bias true)
        /// Transposed convolution (upsampling by `stride`).
        static member ConvTranspose2d(outChannels: int, kernel: int, ?stride: int, ?padding: int, ?outputPadding: int, ?bias: bool) : Layer =
            Net.ConvTranspose2d(int64 outChannels, int64 kernel, opt stride 1L, opt padding 0L, opt outputPadding 0L, defaultArg bias true)
        /// Max pooling over `kernel`×`kernel` windows (stride = kernel unless given).
        static member MaxPool(kernel: int, ?stride: int, ?padding: int, ?ceilMode: bool) : Layer =
            Net.MaxPool(int64 kernel, stride |> Option.map int64 |> Option.toNullable, opt padding 0L, defaultArg ceilMode false)
        /// Average pooling over `kernel`×`kernel` windows (stride = kernel unless given).
        static member AvgPool(kernel: int, ?stride: int, ?padding: int) : Layer =
            Net.AvgPool(int64 kernel, stride |> Option.map int64 |> Option.toNullable, opt padding 0L)
        /// Batch normalisation of features, with its running-statistics momentum and epsilon.
        static member BatchNorm1d(?momentum: float, ?eps: float) : Layer = Net.BatchNorm1d(defaultArg momentum 0.1, defaultArg eps 1e-5)
        /// Batch normalisation of image channels, with its running-statistics momentum and epsilon.
        static member BatchNorm2d(?momentum: float, ?eps: float) : Layer = Net.BatchNorm2d(defaultArg momentum 0.1, defaultArg eps 1e-5)
        /// Layer normalisation over the last `dims` dimensions.
        static member LayerNorm(?dims: int, ?eps: float) : Layer = Net.LayerNorm(defaultArg dims 1, defaultArg eps 1e-5)
        /// Dropout with probability `p` (0.5 unless given).
        static member Dropout(?p: float) : Layer = Net.Dropout(defaultArg p 0.5)
        /// Upsampling by `scale`, nearest-neighbour or (`bilinear = true`) bilinear.
        static member Upsample(scale: int, ?bilinear: bool) : Layer =
            Net.Upsample(int64 scale, if defaultArg bilinear false then UpsampleMode.Bilinear else UpsampleMode.Nearest)

/// F# slicing of a layer sequence by index, `net.[1..3]` (both ends included), names kept.
[<AutoOpen>]
module SequenceSlicing =
    type Layers.Sequence with
        member s.GetSlice(start: int option, finish: int option) : Layers.Sequence =
            let first, last = defaultArg start 0, defaultArg finish (s.Count - 1)
            if first < 0 || last >= s.Count || first > last + 1 then
                invalidArg "range" $"[{first}..{last}] is not within the {s.Count} layers of {s} (0..{s.Count - 1})."
            s.Slice(first, last - first + 1)

/// Building layer values into models, and looking at them.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Model =
    /// Builds `layer` for samples of shape `input` (no batch dimension), e.g. `Model.build [1; 28; 28]`.
    let build (input: int list) (layer: Layer) : Layers.Model =
        Layers.Model.Build(layer, Shape(input |> List.map int64 |> Array.ofList))
    /// The output shape `layer` gives for `input`, without building it.
    let outputShape (input: int list) (layer: Layer) : int list =
        layer.OutputShape(Shape(input |> List.map int64 |> Array.ofList)) |> Seq.map int |> List.ofSeq
    /// The Keras-like summary table.
    let summary (model: Layers.Model) : string = model.Summary()
    /// Runs the model on a batch as it stands (training or evaluation mode), recording gradients: for training code.
    let forward (model: Layers.Model) (batch: Tensor) : Tensor = model.Forward batch
    /// The model's output for a batch in evaluation mode, without gradients (Dropout off, BatchNorm's running
    /// statistics); the model's mode is left as it was. For using a trained model.
    let predict (model: Layers.Model) (batch: Tensor) : Tensor = model.Predict batch
    /// A new, frozen copy of the model for prediction: each BatchNorm after a convolution folded into it (as ONNX
    /// Runtime does when it loads a graph). The model itself is unchanged.
    let forInference (model: Layers.Model) : Layers.Model = model.ForInference()
    /// A layer without parameters (an activation, pooling, reshaping, upsampling…) applied to a batch:
    /// `Model.apply (avgPool 2) images`, `Model.apply tanh t`. Layers with weights need `build` and training.
    let apply (layer: Layer) (batch: Tensor) : Tensor =
        let model = Layers.Model.Build(layer, Shape(batch.shape.[1..]), batch.device)
        if model.ParameterCount > 0L then
            invalidArg "layer" $"Model.apply runs layers without parameters; {layer} has {model.ParameterCount} parameters: build it with Model.build and train it."
        model.Predict batch
    /// The built part of the model at `path` (e.g. "encoder"), sharing its weights.
    let part (path: string) (model: Layers.Model) : Layers.Model = model.Part path
    /// The number of parameter values.
    let parameterCount (model: Layers.Model) : int64 = model.ParameterCount
