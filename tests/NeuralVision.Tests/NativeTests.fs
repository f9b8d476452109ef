module NeuralVision.Tests.NativeTests

open System
open System.IO
open Expecto
open NeuralVision.Native

let private need lib version flags offset = VersionNeed(lib, version, flags, offset)
let private stdcxx = "libstdc++.so.6"
let private needs =
    [ need stdcxx "GLIBCXX_3.4.30" 0us 100L
      need stdcxx "GLIBCXX_3.4.32" 0us 116L
      need "libc.so.6" "GLIBC_2.34" 0us 132L ]
let private hostWith (versions: string list) = Collections.Generic.HashSet<string>(versions) :> Collections.Generic.IReadOnlySet<_>

let decisionTests =
    testList "patch decision (fake inputs)" [
        test "a host that has the version loads the library as it is" {
            let plan = SymbolVersionPatch.Decide(needs, stdcxx, hostWith [ "GLIBCXX_3.4.30"; "GLIBCXX_3.4.32" ])
            Expect.isTrue (plan :? SymbolVersionPatch.Plan.LoadAsIs) $"expected LoadAsIs, got {plan}"
        }
        test "a host without GLIBCXX_3.4.32 weakens exactly that requirement" {
            match SymbolVersionPatch.Decide(needs, stdcxx, hostWith [ "GLIBCXX_3.4.30" ]) with
            | :? SymbolVersionPatch.Plan.Weaken as w ->
                Expect.equal [ for n in w.Needs -> n.Version ] [ "GLIBCXX_3.4.32" ] "only the missing version"
            | plan -> failtest $"expected Weaken, got {plan}"
        }
        test "a missing version that is not known to be unbound is refused, not weakened" {
            match SymbolVersionPatch.Decide(needs, stdcxx, hostWith [ "GLIBCXX_3.4.32" ]) with
            | :? SymbolVersionPatch.Plan.Unsupported as u -> Expect.equal (List.ofSeq u.MissingVersions) [ "GLIBCXX_3.4.30" ] "names it"
            | plan -> failtest $"expected Unsupported, got {plan}"
        }
        test "a requirement already weak needs nothing" {
            let weak = [ need stdcxx "GLIBCXX_3.4.32" ElfFile.VerFlagWeak 116L ]
            Expect.isTrue (SymbolVersionPatch.Decide(weak, stdcxx, hostWith []) :? SymbolVersionPatch.Plan.LoadAsIs) "weak is optional"
        }
        test "versions of other libraries are not the host libstdc++'s business" {
            let plan = SymbolVersionPatch.Decide([ need "libc.so.6" "GLIBC_2.99" 0us 0L ], stdcxx, hostWith [])
            Expect.isTrue (plan :? SymbolVersionPatch.Plan.LoadAsIs) "libc needs are not judged here"
        }
    ]

let private report = lazy (TorchNative.EnsureLoaded())

/// The output lines of a child process in mode "native" (see childMain), which must succeed.
let private nativeChild (env: (string * string) list) =
    let code, out, err = ChildProcess.run "native" [] env
    Expect.equal code 0 $"child failed: {err}"
    out.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)

/// The value of the child's line "key=value".
let private valueOf (key: string) (lines: string[]) =
    lines |> Array.find (fun l -> l.StartsWith(key + "=")) |> fun l -> l.Substring(key.Length + 1)

let realLibraryTests =
    testList "the real libLibTorchSharp.so" [
        test "its requirements are read, GLIBCXX_3.4.32 among them" {
            let needs = ElfFile.Read(report.Value.Original).VersionNeeds()
            let versions = [ for n in needs -> n.Library, n.Version ]
            Expect.contains versions (stdcxx, "GLIBCXX_3.4.32") "the version DESIGN.md describes"
            Expect.contains versions ("libc.so.6", "GLIBC_2.2.5") "libc's base version"
        }
        test "the patch flips exactly one flag bit, in the GLIBCXX_3.4.32 entry" {
            let original = File.ReadAllBytes report.Value.Original
            let target = ElfFile.Parse(original, "original").VersionNeeds() |> Seq.find (fun n -> n.Version = "GLIBCXX_3.4.32")
            let patched = SymbolVersionPatch.Apply(ReadOnlySpan original, [ target ])
            let changed = [ for i in 0 .. original.Length - 1 do if original.[i] <> patched.[i] then i ]
            Expect.equal patched.Length original.Length "same size"
            Expect.equal changed [ int target.FlagsOffset ] "one byte changed, the flags field's low byte"
            Expect.equal (original.[int target.FlagsOffset] ^^^ patched.[int target.FlagsOffset]) 2uy "only the VER_FLG_WEAK bit"
            let reread = ElfFile.Parse(patched, "patched").VersionNeeds() |> Seq.find (fun n -> n.Version = "GLIBCXX_3.4.32")
            Expect.equal reread.Flags ElfFile.VerFlagWeak "the re-read entry is weak"
        }
        test "the host's libstdc++ is found and its version definitions read" {
            let versions = HostLibStdCxx.Versions()
            Expect.isTrue (versions.Contains "GLIBCXX_3.4" && versions.Contains "CXXABI_1.3") $"base versions among {versions.Count}"
        }
        test "the package file is never modified" {
            let before = File.ReadAllBytes report.Value.Original
            let patched = report.Value.Bridge
            Expect.isTrue (report.Value.WeakenedVersions.Count = 0 || patched <> report.Value.Original) "a patched copy lives elsewhere"
            let needs = ElfFile.Parse(before, "original").VersionNeeds()
            let hostLacks = not (HostLibStdCxx.Versions().Contains "GLIBCXX_3.4.32")
            let origFlags = needs |> Seq.find (fun n -> n.Version = "GLIBCXX_3.4.32") |> _.Flags
            Expect.equal origFlags 0us "the original still has a strong requirement"
            Expect.equal (List.ofSeq report.Value.WeakenedVersions) (if hostLacks then [ "GLIBCXX_3.4.32" ] else []) "patched only when the host lacks it"
        }
        test "a fresh process writes the patched copy to its cache and computes with it" {
            let cache = Path.Combine(Path.GetTempPath(), $"nv-native-test-{Guid.NewGuid():N}")
            try
                let lines = nativeChild [ "NV_NATIVE_CACHE", cache ]
                let bridge = valueOf "bridge" lines
                Expect.contains lines "sum=6" "libtorch computed 1+2+3 in the child"
                if report.Value.WeakenedVersions.Count > 0 then
                    Expect.isTrue (bridge.StartsWith cache) $"the bridge {bridge} comes from the fresh cache {cache}"
                    Expect.isTrue (File.Exists bridge) "and stays there for the next process"
                else
                    Expect.equal bridge report.Value.Original "no patch needed: the package's own file"
            finally
                if Directory.Exists cache then Directory.Delete(cache, true)
        }
        test "malloc is tuned for tensors when libtorch loads, and NV_MALLOC=system keeps glibc's defaults" {
            let allocatorOf env = nativeChild env |> valueOf "allocator"
            let tuned = allocatorOf []
            Expect.stringStarts tuned "glibc tuned" "glibc's mallopt accepted the limits"
            Expect.stringContains tuned $"{NativeAllocator.MmapThreshold >>> 20} MiB" "the limits are reported"
            Expect.equal (allocatorOf [ "NV_MALLOC", "system" ]) "system (NV_MALLOC=system)" "opted out"
        }
        test "MKL runs in its reproducible mode (MKL_CBWR=AUTO) unless the user chose one" {
            let lines = nativeChild [ "MKL_VERBOSE", "1" ]
            Expect.equal (valueOf "reproducibility" lines) "MKL_CBWR=AUTO" "set before libtorch loads"
            Expect.equal (valueOf "product" lines) "262144" "MKL computed the product"
            let mklLines = lines |> Array.filter (fun l -> l.Contains "MKL") |> String.concat " | "
            Expect.isTrue (lines |> Array.exists (fun l -> l.Contains "CNR:AUTO")) $"MKL itself reports CNR:AUTO: {mklLines}"
            let chosen = nativeChild [ "MKL_VERBOSE", "1"; "MKL_CBWR", "COMPATIBLE" ]
            Expect.equal (valueOf "reproducibility" chosen) "MKL_CBWR=COMPATIBLE (as set)" "the user's choice is kept"
            Expect.isTrue (chosen |> Array.exists (fun l -> l.Contains "CNR:COMPATIBLE")) "and MKL uses it"
            let optedOut = nativeChild [ "MKL_VERBOSE", "1"; "NV_MKL", "system" ]
            Expect.equal (valueOf "reproducibility" optedOut) "MKL's default mode (NV_MKL=system)" "NV_MKL=system opts out"
            Expect.isFalse (optedOut |> Array.exists (fun l -> l.Contains "CNR:AUTO")) "and MKL runs in its default mode"
        }
    ]

/// Child mode "native": load from scratch, print where the bridge came from and one computed value.
let childMain () =
    let r = TorchNative.EnsureLoaded()
    use t = NeuralVision.Tensor.ofArray [| 1.f; 2.f; 3.f |]
    printfn "bridge=%s" r.Bridge
    printfn "sum=%s" (string (t.sum().item<float32>()))
    printfn "allocator=%s" r.Allocator
    printfn "reproducibility=%s" r.Reproducibility
    // A matrix product large enough to go to MKL (which prints its mode with MKL_VERBOSE=1).
    use a = TorchSharp.torch.ones(64L, 64L)
    use product = a.matmul(a)
    printfn "product=%s" (string (product.sum().item<float32>()))
    0

let tests = testList "native loading" [ decisionTests; realLibraryTests ]
