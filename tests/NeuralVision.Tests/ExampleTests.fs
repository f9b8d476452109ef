/// The examples run as a user runs them (`dotnet fsi examples/NN-topic.fsx quick`), and their quick
/// forms reach the bars below: lower than the full runs' bars, but each a real learning result.
module NeuralVision.Tests.ExampleTests

open System
open System.IO
open Expecto

/// (script, result name, the quick form's bar, what the bar means)
let private bars : (string * string * (float -> bool) * string) list =
    [ "01-tensors", "w_after_one_step", (fun v -> abs (v - 7.84) < 1e-9), "= 7.84"
      "02-regression", "validation_mae", (fun v -> v <= 0.03), "≤ 0.03 (the course's pass mark)"
      "03-binary", "test_accuracy", (fun v -> v >= 0.85), "≥ 0.85"
      "04-wine", "test_accuracy_13_features", (fun v -> v >= 0.95), "≥ 0.95"
      "05-localisation", "mean_iou", (fun v -> v >= 0.5), "≥ 0.5 in the quick form (full: ≥ 0.70)"
      "06-segmentation", "mean_iou", (fun v -> v >= 0.7), "≥ 0.7 in the quick form (full: ≥ 0.80)"
      "07-autoencoder", "test_bce", (fun v -> v < 0.32), "< 0.32 per pixel"
      "08-super-resolution", "psnr_gain_db", (fun v -> v >= 0.5), "≥ 0.5 dB over bicubic in the quick form (full: ≥ 1)"
      "09-optimisers", "elongated_sgd_over_momentum_steps", (fun v -> v > 1.5), "> 1.5: momentum needs fewer steps than SGD"
      "10-mlp", "mnist_accuracy", (fun v -> v >= 0.85), "≥ 0.85 in the quick form (full: ≥ 0.92)"
      "11-convolution", "calc_out_shape_agreements", (fun v -> v = 1.0), "= 1: every size agrees with libtorch"
      "12-lenet", "mnist_accuracy", (fun v -> v >= 0.93), "≥ 0.93 in the quick form (full: ≥ 0.97)"
      "13-architectures", "resnet18_fashion_accuracy", (fun v -> v >= 0.6), "≥ 0.6 in the quick form (full: ≥ 0.91)"
      "14-transfer", "pretrained_minus_scratch", (fun v -> v > 0.0), "> 0: pretrained ahead of scratch"
      "15-overfitting", "remedies_narrowing_gap", (fun v -> v >= 3.0), "≥ 3 of the 4 remedies narrow the gap"
      "16-normalisation", "epochs_saved_by_batchnorm", (fun v -> v >= 1.0), "≥ 1 epoch saved by BatchNorm"
      "17-cifar", "test_accuracy", (fun v -> v > 0.2), "> 0.2 (chance is 0.1)"
      "18-likelihood", "max_deviation", (fun v -> v < 1e-4), "< 1e-4: the identities hold numerically"
      "19-claims", "max_sigmoid_gradient_ratio", (fun v -> v <= 0.25), "≤ 1/4 per stacked sigmoid" ]

let private present =
    lazy (Directory.GetFiles(Path.Combine(Repo.root.Value, "examples"), "??-*.fsx") |> Array.map Path.GetFileNameWithoutExtension |> Set.ofArray)

let private runScript name =
    let script = Path.Combine(Repo.root.Value, "examples", name + ".fsx")
    let code, out, err = Repo.runProgram "dotnet" [ "fsi"; "--quiet"; script; "quick" ] [] 10.0
    Expect.equal code 0 $"{name} failed:\n{out}\n{err}"
    out

let tests =
    testSequenced (testList "examples (quick forms)" [
        for name, figure, bar, meaning in bars do
            test name {
                if not (present.Value.Contains name) then failtest $"examples/{name}.fsx is missing"
                let out = runScript name
                match Repo.resultLine out with
                | Some (n, v) when n = figure ->
                    let value = Double.Parse(v, Globalization.CultureInfo.InvariantCulture)
                    Expect.isTrue (bar value) $"{figure} = {value}, needs {meaning}"
                | other -> failtest $"the last result line is {other}, expected {figure}:\n{out}"
            }
        // The C# versions of 01, 04, 09 and 12, with the same bars as their F# twins.
        for project, figure, bar, meaning in
            [ "Tensors", "w_after_one_step", (fun v -> abs (v - 7.84) < 1e-9), "= 7.84"
              "Wine", "test_accuracy_13_features", (fun v -> v >= 0.95), "≥ 0.95"
              "Optimisers", "elongated_sgd_over_momentum_steps", (fun v -> v > 1.5), "> 1.5"
              "LeNet", "mnist_accuracy", (fun v -> v >= 0.93), "≥ 0.93 in the quick form" ] do
            test $"C# example {project}" {
                let dll = Path.Combine(Repo.root.Value, "examples", "CSharp", project, "bin", Repo.configuration, "net10.0", $"NeuralVision.Examples.{project}.dll")
                let code, out, err = Repo.runProgram "dotnet" [ dll; "quick" ] [] 5.0
                Expect.equal code 0 $"the C# example failed:\n{out}\n{err}"
                match Repo.resultLine out with
                | Some (n, v) when n = figure ->
                    let value = Double.Parse(v, Globalization.CultureInfo.InvariantCulture)
                    Expect.isTrue (bar value) $"{figure} = {value}, needs {meaning}"
                | other -> failtest $"the last result line is {other}, expected {figure}:\n{out}"
            }
    ])
