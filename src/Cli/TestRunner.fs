/// `nv test`: runs every test project's built program and adds up their results into one line,
/// `tests: N passed, N failed, N skipped`.
module NeuralVision.Cli.TestRunner

open System
open System.Diagnostics
open System.IO

type Counts = { Passed: int; Failed: int; Skipped: int }

/// The built test programs under tests/: tests/X/X.fsproj → tests/X/bin/<configuration>/net10.0/X.dll.
let discover (root: string) (configuration: string) : string list =
    Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.?sproj", SearchOption.AllDirectories)
    |> Seq.map (fun proj ->
        let name = Path.GetFileNameWithoutExtension proj
        Path.Combine(Path.GetDirectoryName proj, "bin", configuration, "net10.0", name + ".dll"))
    |> Seq.sort
    |> List.ofSeq

/// Parses the "passed failed skipped" file a test program writes at its end.
let parseSummary (text: string) : Counts option =
    match text.Trim().Split ' ' |> Array.map Int32.TryParse with
    | [| (true, p); (true, f); (true, s) |] -> Some { Passed = p; Failed = f; Skipped = s }
    | _ -> None

/// The counts in an xunit.v3 XML report: the attributes of its <assembly> elements.
let parseXunitReport (xml: string) : Counts option =
    let assemblies = Xml.Linq.XDocument.Parse(xml).Descendants(Xml.Linq.XName.Get "assembly") |> List.ofSeq
    let count (name: string) = assemblies |> List.sumBy (fun a -> int (a.Attribute(Xml.Linq.XName.Get name).Value))
    if assemblies.IsEmpty then None
    else Some { Passed = count "passed"; Failed = count "failed" + count "errors"; Skipped = count "skipped" + count "not-run" }

/// An xunit.v3 test program (its core library beside it) reports through an XML file; an Expecto one
/// through $NV_TEST_SUMMARY. Expecto's arguments (filters) are passed to Expecto programs only.
let private isXunit (dll: string) = File.Exists(Path.Combine(Path.GetDirectoryName dll, "xunit.v3.core.dll"))

/// Runs one test program; a crash or a missing summary counts as one failure.
let private runOne (dll: string) (extraArgs: string list) : Counts =
    if not (File.Exists dll) then
        eprintfn "test program %s is not built; run ./nv build" dll
        { Passed = 0; Failed = 1; Skipped = 0 }
    else
        let summary = Path.GetTempFileName()
        try
            let xunit = isXunit dll
            let info = ProcessStartInfo("dotnet", UseShellExecute = false)
            info.ArgumentList.Add dll
            for a in (if xunit then [ "-result-xml"; summary; "-noColor" ] else extraArgs) do info.ArgumentList.Add a
            info.Environment.["NV_TEST_SUMMARY"] <- summary
            use p = Process.Start info
            p.WaitForExit()
            let text = File.ReadAllText summary
            match (if xunit then (if text.Length = 0 then None else parseXunitReport text) else parseSummary text) with
            | Some counts -> counts
            | None ->
                eprintfn "%s ended (exit code %d) without a summary: counted as one failure" (Path.GetFileName dll) p.ExitCode
                { Passed = 0; Failed = 1; Skipped = 0 }
        finally
            File.Delete summary

/// Runs all test programs; prints the closing line; returns the process exit code.
let run (root: string) (configuration: string) (extraArgs: string list) : int =
    let total =
        discover root configuration
        |> List.map (fun dll -> runOne dll extraArgs)
        |> List.fold (fun a c -> { Passed = a.Passed + c.Passed; Failed = a.Failed + c.Failed; Skipped = a.Skipped + c.Skipped })
                     { Passed = 0; Failed = 0; Skipped = 0 }
    // A test program's output may end without a newline; the closing line must stand alone.
    printfn ""
    printfn "tests: %d passed, %d failed, %d skipped" total.Passed total.Failed total.Skipped
    if total.Failed > 0 || total.Passed = 0 then 1 else 0
