// 11 — convolution and pooling by hand on a real photo (scikit-learn's china.jpg): the [−1, 0, 1] kernel
// and Sobel, max-pooling, the feature maps as pictures; calc_out_shape checked against libtorch.
#load "Lesson.fsx"

open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Layers
open Lesson

let struct (pixels, h, w) = ImageFolder.Read(Sklearn.Photo "china.jpg")
let rgb = torch.tensor(Array.map float32 pixels, System.ReadOnlySpan [| 1L; 3L; int64 h; int64 w |]).div(torch.tensor 255.f)
let grey = rgb.mean([| 1L |], keepdim = true)                                   // [1, 1, 427, 640]
let kernel (rows: float32 list list) = torch.tensor(array2D rows).reshape(1L, 1L, 3L, 3L)
let edgesX = torch.nn.functional.conv2d(grey, kernel [ [ 0.f; 0.f; 0.f ]; [ -1.f; 0.f; 1.f ]; [ 0.f; 0.f; 0.f ] ], padding = [| 1L; 1L |])
let sobelX = torch.nn.functional.conv2d(grey, kernel [ [ -1.f; 0.f; 1.f ]; [ -2.f; 0.f; 2.f ]; [ -1.f; 0.f; 1.f ] ], padding = [| 1L; 1L |])
let sobelY = torch.nn.functional.conv2d(grey, kernel [ [ -1.f; -2.f; -1.f ]; [ 0.f; 0.f; 0.f ]; [ 1.f; 2.f; 1.f ] ], padding = [| 1L; 1L |])
let magnitude = sobelX.square().add(sobelY.square()).sqrt()
let pooled = torch.nn.functional.max_pool2d(magnitude, [| 4L; 4L |])
let show (t: torch.Tensor) = torch.nn.functional.interpolate(t.sub(t.min()).div(t.max().sub(t.min())), [| 213L; 320L |], mode = torch.InterpolationMode.Bilinear, align_corners = false)
Plot.ImageGrid.Samples(picture "11-convolution" "feature-maps.png",
                       torch.cat([| show grey; show (edgesX.abs()); show (sobelX.abs()); show (sobelY.abs()); show magnitude; show pooled |], 0L),
                       [ "grey"; "|[-1, 0, 1]|"; "|Sobel x|"; "|Sobel y|"; "Sobel magnitude"; "max-pooled 4x4" ], columns = 3)
printfn "photo %dx%d; Sobel magnitude pooled 4x4 → %A" h w (List.ofArray pooled.shape)

// calc_out_shape against libtorch's real convolutions.
let cases = [ 32, 5, 1, 0, 1; 28, 5, 1, 2, 1; 224, 7, 2, 3, 1; 224, 11, 4, 2, 1; 56, 3, 2, 1, 1; 20, 3, 1, 2, 2; 17, 4, 3, 1, 1 ]
printfn "%-34s %12s %12s" "input, kernel, stride, padding, dilation" "calc_out" "libtorch"
let agree =
    [ for size, k, s, p, d in cases ->
          let formula = ConvArithmetic.CalcOutShape([| 1L; 1L; int64 size; int64 size |], 6L, int64 k, int64 s, int64 p, int64 d)
          let real = torch.nn.functional.conv2d(torch.zeros(1L, 1L, int64 size, int64 size), torch.zeros(6L, 1L, int64 k, int64 k),
                                                strides = [| int64 s; int64 s |], padding = [| int64 p; int64 p |], dilation = [| int64 d; int64 d |]).shape
          printfn "%-34s %12s %12s" $"{size}x{size}, k{k}, s{s}, p{p}, d{d}" (String.concat "x" (Array.map string formula)) (String.concat "x" (Array.map string real))
          formula = real ]
result "calc_out_shape_agreements" (float (agree |> List.filter id |> List.length) / float agree.Length)
