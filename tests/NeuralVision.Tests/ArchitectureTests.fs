/// The core's folders form a one-way stack (README, "Layout"): a folder uses only the folders below it.
/// NetArchTest reads the compiled core, so a dependency hidden in a closure or an iterator counts too.
module NeuralVision.Tests.ArchitectureTests

open System
open System.IO
open System.Reflection
open Expecto
open NetArchTest.Rules

/// The core's folders, lowest first. The README's Layout section declares the same order.
let layers = [ "Native"; "Tensors"; "Distributed"; "Layers"; "Losses"; "Optim"; "Data"; "Training"; "Vision"; "Plot" ]

let private core = typeof<NeuralVision.Layers.Layer>.Assembly

/// The types of one folder that use a folder above it, with the folders they use.
let private violations (index: int) =
    let folder = layers[index]
    let above = layers |> List.skip (index + 1) |> List.map (fun l -> $"NeuralVision.{l}")
    if above.IsEmpty then [] else
    let result =
        Types.InAssembly(core).That().ResideInNamespace($"NeuralVision.{folder}")
            .ShouldNot().HaveDependencyOnAny(Array.ofList above).GetResult()
    if result.IsSuccessful then [] else [ for t in result.FailingTypeNames -> $"{t} (in {folder}) uses one of {above}" ]

/// The TorchSharp types the public API may speak in: the tensor and what describes one. Modules,
/// optimisers and parameters stay inside (TorchSharpEscape is the one named way out).
let private tensorVocabulary = set [ "Tensor"; "Device"; "DeviceType"; "ScalarType"; "Generator" ]

/// Public members of the core whose signature names a TorchSharp or ONNX type outside that vocabulary.
let private leaks () =
    let rec foreign (t: Type) : Type list =
        if isNull t then [] else
        let own =
            if not t.HasElementType && not (isNull t.Namespace) && (t.Namespace.StartsWith "TorchSharp" || t.Namespace.StartsWith "Onnx") && not (tensorVocabulary.Contains t.Name)
            then [ t ] else []
        own
        @ (if t.IsGenericType then t.GetGenericArguments() |> List.ofArray |> List.collect foreign else [])
        @ (if t.HasElementType then foreign (t.GetElementType()) else [])
    let flags = BindingFlags.Public ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    [ for t in core.GetExportedTypes() do
        if t <> typeof<NeuralVision.Layers.TorchSharpEscape> then
            for x in foreign t.BaseType do yield $"{t.FullName} derives from {x.FullName}"
            for m in t.GetMembers flags do
                let types =
                    match m with
                    | :? MethodInfo as mi -> mi.ReturnType :: [ for p in mi.GetParameters() -> p.ParameterType ]
                    | :? ConstructorInfo as ci -> [ for p in ci.GetParameters() -> p.ParameterType ]
                    | :? PropertyInfo as pi -> [ pi.PropertyType ]
                    | :? FieldInfo as fi -> [ fi.FieldType ]
                    | _ -> []
                for x in types |> List.collect foreign |> List.distinct do yield $"{t.FullName}.{m.Name} uses {x.FullName}" ]

let tests =
    testList "architecture" [
        test "no TorchSharp module, optimiser or parameter (nor ONNX type) in the public API but through TorchSharpEscape" {
            Expect.equal (leaks ()) [] "public members that show TorchSharp's machinery"
        }
        test "every folder of the core uses only the folders below it" {
            let found = [ for i in 0 .. layers.Length - 1 do yield! violations i ]
            Expect.isEmpty found "dependencies against the declared order"
        }
        test "the check can fail: Training does use Layers, so forbidding it is reported" {
            let result = Types.InAssembly(core).That().ResideInNamespace("NeuralVision.Training").ShouldNot().HaveDependencyOn("NeuralVision.Layers").GetResult()
            Expect.isFalse result.IsSuccessful "a dependency that exists is found"
            Expect.contains result.FailingTypeNames "NeuralVision.Training.Train" "and names the type"
        }
        test "types at the root of the core use no folder" {
            let result =
                Types.InAssembly(core).That().ResideInNamespaceMatching("^NeuralVision$")
                    .ShouldNot().HaveDependencyOnAny(layers |> List.map (fun l -> $"NeuralVision.{l}") |> Array.ofList).GetResult()
            Expect.isTrue result.IsSuccessful $"root types using a folder: {result.FailingTypeNames}"
        }
        test "programs run without tiered re-compiling or a background GC thread, which stall OpenMP's split operations (Directory.Build.targets)" {
            Expect.equal (AppContext.GetData "System.Runtime.TieredCompilation") (box "false") "this test process compiles each method once"
            Expect.equal Runtime.GCSettings.LatencyMode Runtime.GCLatencyMode.Batch "and collects without a background thread"
            let nvConfig = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.runtimeconfig.json")
            let properties = Text.Json.JsonDocument.Parse(File.ReadAllText nvConfig).RootElement.GetProperty("runtimeOptions").GetProperty("configProperties")
            for name in [ "System.Runtime.TieredCompilation"; "System.GC.Concurrent" ] do
                Expect.isFalse (properties.GetProperty(name).GetBoolean()) $"nv's {name}"
        }
        test "the README declares the same order" {
            let readme = File.ReadAllText(Path.Combine(Repo.root.Value, "README.md"))
            Expect.stringContains readme ("Native → Tensors → Distributed → Layers → Losses → Optim → Data → Training → Vision → Plot") "the README's Layout section states the order the test enforces"
            Expect.equal (String.concat " → " layers) "Native → Tensors → Distributed → Layers → Losses → Optim → Data → Training → Vision → Plot" "one order"
        }
    ]
