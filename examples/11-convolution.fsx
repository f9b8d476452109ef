// 11 — convolution and pooling by hand on a real photo (scikit-learn's china.jpg): the [−1, 0, 1] kernel
// and Sobel, max-pooling, the feature maps as pictures; calc_out_shape checked against libtorch.
#load "Lesson.fsx"

open NeuralVision
open NeuralVision.Data
open NeuralVision.Layers
open Lesson

let rgb = Image.load (Sklearn.Photo "china.jpg")                                  // [3; 427; 640] in 0..1
let height, width = (Tensor.shape rgb).[1], (Tensor.shape rgb).[2]
let grey = Tensor.meanAlong 0 rgb |> Tensor.reshape [ 1; 1; height; width ]
let kernel (rows: float list list) = tensor rows |> Tensor.reshape [ 1; 1; 3; 3 ]
let edgesX = grey |> Tensor.conv2d 1 (kernel [ [ 0.; 0.; 0. ]; [ -1.; 0.; 1. ]; [ 0.; 0.; 0. ] ])
let sobelX = grey |> Tensor.conv2d 1 (kernel [ [ -1.; 0.; 1. ]; [ -2.; 0.; 2. ]; [ -1.; 0.; 1. ] ])
let sobelY = grey |> Tensor.conv2d 1 (kernel [ [ -1.; -2.; -1. ]; [ 0.; 0.; 0. ]; [ 1.; 2.; 1. ] ])
let magnitude = sqrt (sobelX ** 2.0 + sobelY ** 2.0)
let pooled = Model.apply (maxPool 4) magnitude
let show (t: Tensor) = (t - Tensor.min t) / (Tensor.max t - Tensor.min t) |> Tensor.resize 213 320 Bilinear
Chart.images(picture "11-convolution" "feature-maps.png",
             Tensor.cat [ show grey; show (abs edgesX); show (abs sobelX); show (abs sobelY); show magnitude; show pooled ],
             [ "grey"; "|[-1, 0, 1]|"; "|Sobel x|"; "|Sobel y|"; "Sobel magnitude"; "max-pooled 4x4" ], columns = 3)
printfn "photo %A; Sobel magnitude pooled 4x4 → %A" (Tensor.shape rgb) (Tensor.shape pooled)

// calc_out_shape against libtorch's real convolutions (a convolution layer run on zeros).
let cases = [ 32, 5, 1, 0, 1; 28, 5, 1, 2, 1; 224, 7, 2, 3, 1; 224, 11, 4, 2, 1; 56, 3, 2, 1, 1; 20, 3, 1, 2, 2; 17, 4, 3, 1, 1 ]
printfn "%-34s %12s %12s" "input, kernel, stride, padding, dilation" "calc_out" "libtorch"
let agree =
    [ for size, k, s, p, d in cases ->
          let formula = ConvArithmetic.CalcOutShape(Array.map int64 [| 1; 1; size; size |], int64 6, int64 k, int64 s, int64 p, int64 d) |> Array.map int |> List.ofArray
          let conv = Model.build [ 1; size; size ] (Layer.Conv2d(6, k, stride = s, padding = p, dilation = d))
          let real = Model.predict conv (zeros [ 1; 1; size; size ]) |> Tensor.shape
          let text shape = String.concat "x" (List.map string shape)
          printfn "%-34s %12s %12s" $"{size}x{size}, k{k}, s{s}, p{p}, d{d}" (text formula) (text real)
          formula = real ]
result "calc_out_shape_agreements" (float (agree |> List.filter id |> List.length) / float agree.Length)
