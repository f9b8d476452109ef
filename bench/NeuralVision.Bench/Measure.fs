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

/// Resident memory of this process in MiB.
let rssMiB () =
    Process.GetCurrentProcess().Refresh()
    float (Process.GetCurrentProcess().WorkingSet64) / 1048576.
