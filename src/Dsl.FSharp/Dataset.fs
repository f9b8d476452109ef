/// Data from F#: pairs of input and target tensors, split, mapped, subset and standardised as functions, and
/// cut into batches. Every function returns new data; none changes its input.
namespace NeuralVision

open NeuralVision.Data

type Batch = Data.Batch
type TensorData = Data.TensorData
type Loader = Data.Loader
type ImageSet = Data.ImageSet

/// Data sets as values: `let train, test = data |> Dataset.split 0.2 0`.
[<RequireQualifiedAccess>]
module Dataset =
    /// Data from an input tensor and a target tensor with the same first dimension.
    let ofTensors (inputs: Tensor) (targets: Tensor) : TensorData = TensorData(inputs, targets).Checked()
    /// The images (as float32 in 0..1, [N; C; H; W]) and labels of an image set.
    let ofImages (images: ImageSet) : TensorData = images.ToData()
    /// Fashion-MNIST's 60,000 training and 10,000 test images [1; 28; 28] in 0..1 with their labels
    /// (provisioned on first use): `let train, test = Dataset.fashionMnist ()`.
    let fashionMnist () : TensorData * TensorData =
        let sets = FashionMnist.Load()
        ofImages sets.Train, ofImages sets.Test
    /// The 10,000 real MNIST digits [1; 28; 28] in 0..1 with their labels (split them with `Dataset.split`).
    let mnist () : TensorData = ofImages (Mnist.Load())
    /// The number of samples.
    let count (data: TensorData) : int = int data.Count
    /// The first `n` samples (all of them when there are fewer).
    let take (n: int) (data: TensorData) : TensorData =
        data.Subset [| 0L .. int64 (min n (int data.Count)) - 1L |]
    /// The samples at `indices`, in that order.
    let subset (indices: int seq) (data: TensorData) : TensorData = data.Subset [| for i in indices -> int64 i |]
    /// The data with `f` applied to its inputs (targets unchanged).
    let map (f: Tensor -> Tensor) (data: TensorData) : TensorData = data.Map(System.Func<_, _> f)
    /// The data with `f` applied to its targets (inputs unchanged).
    let mapTargets (f: Tensor -> Tensor) (data: TensorData) : TensorData = TensorData(data.Inputs, f data.Targets).Checked()
    /// A seeded random split: (the rest, a `fraction` held out), e.g. `Dataset.split 0.2 0 data` for 80/20.
    let split (fraction: float) (seed: int) (data: TensorData) : TensorData * TensorData =
        let struct (rest, heldOut) = data.Split(fraction, seed)
        rest, heldOut
    /// scikit-learn's train_test_split, sample for sample, drawing from a NumPy random state: (train, test).
    let splitLikeScikitLearn (testFraction: float) (numpy: Tensors.NumPyRandomState) (data: TensorData) : TensorData * TensorData =
        let struct (train, test) = data.SplitLikeScikitLearn(testFraction, numpy)
        train, test
    /// Both sets standardised per feature (or channel) with the mean and deviation of the first, so nothing of
    /// the second leaks into the statistics: `let train, test = Dataset.standardise (train, test)`.
    let standardise (fitOn: TensorData, other: TensorData) : TensorData * TensorData =
        let statistics = Standardisation.Fit fitOn.Inputs
        statistics.Apply fitOn, statistics.Apply other

/// Image files as tensors.
[<RequireQualifiedAccess>]
module Image =
    /// A JPEG or PNG file as a float32 tensor [3; height; width] of RGB values in 0..1.
    let load (path: string) : Tensor =
        let struct (pixels, height, width) = ImageFolder.Read path
        // One image as an image set: ImageSet's own conversion of bytes to floats in 0..1.
        ImageSet(pixels, 1, 3, height, width, [| 0uy |], [| "image" |]).ToData().Inputs.[0]

/// Data into batches.
[<AutoOpen>]
module Batches =
    /// Shuffled batches of `size` (a new seeded order each epoch).
    let batches (size: int) (data: TensorData) : Loader = Loader.Create(data, size)
    /// Batches of `size` in the data's order.
    let batchesInOrder (size: int) (data: TensorData) : Loader = Loader.InOrder(data, size)
