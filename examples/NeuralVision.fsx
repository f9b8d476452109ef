// Loads NeuralVision into an F# script: `#load "NeuralVision.fsx"` at the top of a script.
// It references the build of src/Dsl.FSharp, which carries TorchSharp, MathNet, ScottPlot and the
// libtorch natives; `./nv build` (or ./nv demo, ./nv test) makes it. libtorch itself is loaded by
// NeuralVision on first use, patched for this host's libstdc++ where needed.
#I "../src/Dsl.FSharp/bin/Release/net10.0"
#r "TorchSharp.dll"
#r "MathNet.Numerics.dll"
#r "ScottPlot.dll"
#r "NeuralVision.Core.dll"
#r "NeuralVision.FSharp.dll"
#r "OnnxSharp.dll"
#r "Google.Protobuf.dll"
#r "SkiaSharp.dll"

// Load libtorch now, so that a script may call TorchSharp directly before any NeuralVision function.
NeuralVision.Native.TorchNative.EnsureLoaded() |> ignore
