module NeuralVision.Tests.Main

open System
open System.IO
open Expecto
open Expecto.Impl

let allTests =
    testList "NeuralVision" [
        NativeTests.tests
        DeviceTests.tests
        TensorTests.tests
        GradientTests.tests
        SeedTests.tests
        DataTests.tests
        DataSetTests.tests
        LayerTests.tests
        LossTests.tests
        OptimiserTests.tests
        TrainingTests.tests
        VisionTests.tests
        FSharpSurfaceTests.tests
        ExampleTests.tests
        CliTests.tests
        RunTests.tests
        ReliabilityTests.tests
        ResumeTests.tests
        DistributedTests.tests
        ArchitectureTests.tests
    ]

/// Writes "passed failed skipped" to $NV_TEST_SUMMARY so that ./nv test can add up all projects.
let private withSummaryFile (printers: TestPrinters) =
    { printers with
        summary = fun config summary -> async {
            do! printers.summary config summary
            match Environment.GetEnvironmentVariable "NV_TEST_SUMMARY" with
            | null | "" -> ()
            | path ->
                let failed = summary.failed.Length + summary.errored.Length
                File.WriteAllText(path, $"{summary.passed.Length} {failed} {summary.ignored.Length}")
        } }

[<EntryPoint>]
let main argv =
    // Tests call TorchSharp directly too; libtorch must be loaded (and patched) before its first use.
    NeuralVision.Native.TorchNative.EnsureLoaded() |> ignore
    match List.ofArray argv with
    | flag :: "native" :: _ when flag = ChildProcess.Flag -> NativeTests.childMain ()
    | flag :: "seed" :: rest when flag = ChildProcess.Flag -> SeedTests.childMain rest
    | flag :: "train" :: rest when flag = ChildProcess.Flag -> ResumeTests.childMain rest
    | flag :: "write" :: rest when flag = ChildProcess.Flag -> ResumeTests.writerMain rest
    | flag :: mode :: _ when flag = ChildProcess.Flag -> eprintfn "unknown child mode %s" mode; 2
    | _ ->
        let config = { defaultConfig with printer = withSummaryFile defaultConfig.printer }
        // Into a file or pipe (CI): no colour codes or spinner redraws in the log.
        let plain = if Console.IsOutputRedirected then [ CLIArguments.Colours 0; CLIArguments.No_Spinner ] else []
        runTestsWithCLIArgs (CLIArguments.Printer config.printer :: plain) argv allTests
