/// Timing helpers: medians and percentiles of repeated, alternating runs.
module NeuralVision.Bench.Measure

open System.Diagnostics

/// The median of a non-empty list.
let median (xs: float list) =
    let s = List.sort xs
    let n = s.Length
    if n % 2 = 1 then s.[n / 2] else (s.[n / 2 - 1] + s.[n / 2]) / 2.

/// The p-th percentile (0..100) by nearest rank.
let percentile (p: float) (xs: float[]) =
    let s = Array.sort xs
    s.[min (s.Length - 1) (int (ceil (p / 100. * float s.Length)) - 1 |> max 0)]

/// Seconds taken by `f`.
let seconds (f: unit -> unit) =
    let clock = Stopwatch.StartNew()
    f ()
    clock.Elapsed.TotalSeconds

[<System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")>]
extern int private mallocTrim(unativeint pad)

/// Resident memory of this process in MiB, after returning freed heap pages to the system (glibc keeps
/// freed native memory in its arenas, which would make RSS describe the past rather than what is live).
let rssMiB () =
    if System.OperatingSystem.IsLinux() then mallocTrim 0un |> ignore
    use p = Process.GetCurrentProcess()
    float p.WorkingSet64 / 1048576.

/// A figure in kB from one of this process's /proc files (`field:` at a line's start), in MiB; NaN where there is none.
let private procMiB file (field: string) =
    if not (System.IO.File.Exists file) then nan
    else
        System.IO.File.ReadLines file
        |> Seq.tryFind (fun l -> l.StartsWith field)
        |> Option.map (fun l -> float (l.Split(' ', System.StringSplitOptions.RemoveEmptyEntries).[1]) / 1024.)
        |> Option.defaultValue nan

/// The peak resident memory of this process so far in MiB (VmHWM), or NaN where /proc is missing.
let peakRssMiB () = procMiB "/proc/self/status" "VmHWM:"

/// Of this process's resident memory, the shared libraries' pages that the kernel maps 2 MiB at a time (FilePmdMapped,
/// in MiB; NaN where /proc has no such figure). Library files the machine has used for long are gathered into huge pages
/// in its page cache, and a process mapping them is then resident for whole 2 MiB pages of libtorch it never touched:
/// the same binaries read 100 MiB higher from a long-used build directory than from a fresh copy.
let fileHugePagesMiB () = procMiB "/proc/self/smaps_rollup" "FilePmdMapped:"

/// CPU time the hypervisor gave to others so far (steal) and all CPU time so far, in clock ticks, from /proc/stat; (0, 0)
/// where there is none. On a shared virtual machine every side of a run slows while it steals.
let cpuTicks () =
    if not (System.IO.File.Exists "/proc/stat") then 0L, 0L
    else
        // cpu  user nice system idle iowait irq softirq steal …
        let fields = (System.IO.File.ReadLines "/proc/stat" |> Seq.head).Split(' ', System.StringSplitOptions.RemoveEmptyEntries).[1..8] |> Array.map int64
        fields.[7], Array.sum fields

/// Slowest round over fastest: near 1 when a side ran steadily; far above it, the run's ratios for that side are not to be trusted.
let spread (values: float list) = List.max values / List.min values

/// The CPU these figures come from: its model name and the vector instruction sets it has (speed depends on them).
let cpu () =
    let info = if System.IO.File.Exists "/proc/cpuinfo" then System.IO.File.ReadAllLines "/proc/cpuinfo" else [||]
    let field (name: string) = info |> Array.tryFind (fun l -> l.StartsWith name) |> Option.map (fun l -> l.Substring(l.IndexOf ':' + 1).Trim())
    let flags = (field "flags" |> Option.defaultValue "").Split ' '
    {| model = field "model name" |> Option.defaultValue "unknown"
       vector_extensions = flags |> Array.filter (fun (f: string) -> f = "avx" || f = "avx2" || f = "fma" || f.StartsWith "avx512") |> Array.sort
       cores = System.Environment.ProcessorCount |}
