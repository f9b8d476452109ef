/// Tensors from F#: conversions to and from arrays and MathNet, devices and seeding, as functions.
/// Every conversion copies, so no function here changes its input.
namespace NeuralVision

open MathNet.Numerics.LinearAlgebra
open TorchSharp

type Tensor = torch.Tensor

/// How `Tensor.resize` computes the new pixels.
type Resampling =
    | Nearest
    | Bilinear
    | Bicubic

[<RequireQualifiedAccess>]
module Tensor =
    /// A float32 tensor [n] from an array (copied).
    let ofArray (values: float32[]) : Tensor = Tensors.TensorConvert.From values
    /// A float32 tensor [rows; cols] from a 2-D array.
    let ofArray2D (values: float32[,]) : Tensor = Tensors.TensorConvert.From values
    /// A float32 tensor [a; b; c] from a 3-D array.
    let ofArray3D (values: float32[,,]) : Tensor = Tensors.TensorConvert.From values
    /// A float32 tensor [a; b; c; d] from a 4-D array (e.g. N×C×H×W images).
    let ofArray4D (values: float32[,,,]) : Tensor = Tensors.TensorConvert.From values
    /// A float64 tensor [n] from an array of floats.
    let ofFloats (values: float[]) : Tensor = Tensors.TensorConvert.From values
    /// A float64 tensor [rows; cols] from a 2-D array of floats.
    let ofFloats2D (values: float[,]) : Tensor = Tensors.TensorConvert.From values
    /// An int64 tensor [n], as class labels are held.
    let ofLabels (values: int64[]) : Tensor = Tensors.TensorConvert.From values
    /// A float64 tensor [n] from a MathNet vector.
    let ofVector (v: Vector<float>) : Tensor = Tensors.TensorConvert.From v
    /// A float64 tensor [rows; cols] from a MathNet matrix.
    let ofMatrix (m: Matrix<float>) : Tensor = Tensors.TensorConvert.From m

    /// The values of a rank-1 tensor as float32.
    let toArray (t: Tensor) : float32[] = Tensors.TensorConvert.ToArray1<float32> t
    /// The values of a rank-2 tensor as float32.
    let toArray2D (t: Tensor) : float32[,] = Tensors.TensorConvert.ToArray2<float32> t
    /// The values of a rank-3 tensor as float32.
    let toArray3D (t: Tensor) : float32[,,] = Tensors.TensorConvert.ToArray3<float32> t
    /// The values of a rank-4 tensor as float32.
    let toArray4D (t: Tensor) : float32[,,,] = Tensors.TensorConvert.ToArray4<float32> t
    /// The values of a rank-1 tensor as float (float64).
    let toFloats (t: Tensor) : float[] = Tensors.TensorConvert.ToArray1<float> t
    /// All values of a tensor of any shape, in row-major order, as floats.
    let values (t: Tensor) : float[] = Tensors.TensorConvert.ToArray1<float>(t.reshape(-1L))
    /// The values of a rank-2 tensor as float (float64).
    let toFloats2D (t: Tensor) : float[,] = Tensors.TensorConvert.ToArray2<float> t
    /// A rank-1 tensor as a MathNet vector.
    let toVector (t: Tensor) : Vector<float> = Tensors.TensorConvert.ToVector t
    /// A rank-2 tensor as a MathNet matrix.
    let toMatrix (t: Tensor) : Matrix<float> = Tensors.TensorConvert.ToMatrix t

    /// The tensor on a device (a new tensor when it moves).
    let toDevice (device: torch.Device) (t: Tensor) : Tensor = Tensors.TensorConvert.ToDevice(t, device)
    /// The tensor's shape as a list.
    let shape (t: Tensor) : int list = t.shape |> Array.map int |> List.ofArray
    /// The number in a one-value tensor, as a float (`Tensor.item (t.sum())`).
    let item (t: Tensor) : float =
        if t.numel() <> 1L then invalidArg "t" $"Tensor.item needs a tensor holding one number; this one has shape {shape t}."
        t.ToDouble()
    /// The tensor with a new shape of the same number of values (one −1 allowed).
    let reshape (dims: int list) (t: Tensor) : Tensor = t.reshape(dims |> List.map int64 |> Array.ofList)
    /// The tensors joined along their first dimension (e.g. batches of images into one).
    let cat (tensors: Tensor list) : Tensor = torch.cat(Array.ofList tensors, 0L)
    /// Images [N; C; H; W] resized to height × width.
    let resize (height: int) (width: int) (resampling: Resampling) (images: Tensor) : Tensor =
        let size = [| int64 height; int64 width |]
        match resampling with
        | Nearest -> torch.nn.functional.interpolate(images, size, mode = torch.InterpolationMode.Nearest)
        | Bilinear -> torch.nn.functional.interpolate(images, size, mode = torch.InterpolationMode.Bilinear, align_corners = false)
        | Bicubic -> torch.nn.functional.interpolate(images, size, mode = torch.InterpolationMode.Bicubic, align_corners = false)
    /// Images [N; C; H; W] convolved with `kernel` [out; C; kh; kw] (stride 1), zero-padded by `padding` on every side.
    let conv2d (padding: int) (kernel: Tensor) (images: Tensor) : Tensor =
        torch.nn.functional.conv2d(images, kernel, padding = [| int64 padding; int64 padding |])
    /// Grey images [N; 1; H; W] as RGB [N; 3; H; W] (the grey value in every channel), as ImageNet models take them.
    let greyToRgb (images: Tensor) : Tensor =
        if images.Dimensions <> 4L || images.shape.[1] <> 1L then
            invalidArg "images" $"Tensor.greyToRgb takes grey images [N; 1; H; W]; these have shape {List.ofArray images.shape}."
        images.expand(-1L, 3L, -1L, -1L).contiguous()
    /// The values limited to [low, high].
    let clamp (low: float) (high: float) (t: Tensor) : Tensor = t.clamp(low.ToScalar(), high.ToScalar())
    /// The matrix product a·b.
    let matmul (a: Tensor) (b: Tensor) : Tensor = a.matmul b

    /// 1 where a value is above `threshold`, else 0 (float32): `Tensor.above 0.5 probabilities` gives classes.
    let above (threshold: float) (t: Tensor) : Tensor = t.gt(threshold.ToScalar()).to_type(torch.float32)
    /// The share of values equal in two tensors of the same shape (e.g. predicted and true classes).
    let shareEqual (a: Tensor) (b: Tensor) : float = a.eq(b).to_type(torch.float64).mean().ToDouble()

    // The DSL's `tanh`, `sigmoid`, `relu` and `softmax` are layer values (`linear 10 --> tanh`); on a tensor use
    // these, on a float System.Math.Tanh.
    /// The hyperbolic tangent of every value.
    let tanh (t: Tensor) : Tensor = t.tanh()
    /// The logistic sigmoid of every value.
    let sigmoid (t: Tensor) : Tensor = t.sigmoid()
    /// max(0, x) of every value.
    let relu (t: Tensor) : Tensor = t.relu()
    /// Softmax along dimension `dim`.
    let softmax (dim: int) (t: Tensor) : Tensor = t.softmax(int64 dim)

    // Reductions over all values give one-value tensors (`Tensor.item` reads them); the "Along" forms reduce one dimension.
    /// The sum of all values.
    let sum (t: Tensor) : Tensor = t.sum()
    /// The mean of all values.
    let mean (t: Tensor) : Tensor = t.mean()
    /// The largest value.
    let max (t: Tensor) : Tensor = t.max()
    /// The smallest value.
    let min (t: Tensor) : Tensor = t.min()
    /// The Euclidean norm of all values.
    let norm (t: Tensor) : Tensor = t.norm()
    /// Sums along dimension `dim` (removing it).
    let sumAlong (dim: int) (t: Tensor) : Tensor = t.sum(int64 dim)
    /// Means along dimension `dim` (removing it).
    let meanAlong (dim: int) (t: Tensor) : Tensor = t.mean([| int64 dim |])
    /// The index of the largest value along dimension `dim` (e.g. the predicted class: `Tensor.argmax 1 logits`).
    let argmax (dim: int) (t: Tensor) : Tensor = t.argmax(int64 dim)

/// The device of this process (CPU, CUDA where available, NV_DEVICE to override) and seeding.
[<RequireQualifiedAccess>]
module Device =
    /// The device chosen from NV_DEVICE and libtorch's CUDA check.
    let current () : torch.Device = Tensors.Devices.Default
    /// The CPU device.
    let cpu () : torch.Device = Tensors.Devices.Cpu

/// One call seeds libtorch and every random source the library derives from it.
[<RequireQualifiedAccess>]
module Seed =
    /// Seeds libtorch, the library's random sources, and fixes the thread count to one per core.
    let set (seed: int) : unit = Tensors.Seeding.Seed(int64 seed)
