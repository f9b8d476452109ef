/// Console output shared by the commands: progress bars and provisioning progress (Spectre.Console).
module NeuralVision.Cli.Console

open System
open Spectre.Console
open NeuralVision.Data

/// Runs `work` with one progress bar of `total` steps; `work` gets a function that advances it and sets its text.
let withProgress (title: string) (total: int) (work: (string -> unit) -> 'T) : 'T =
    if AnsiConsole.Profile.Capabilities.Interactive then
        AnsiConsole.Progress()
            .Columns(TaskDescriptionColumn(), ProgressBarColumn(), PercentageColumn(), RemainingTimeColumn(), SpinnerColumn())
            .Start(fun ctx ->
                let task = ctx.AddTask(title, maxValue = float total)
                work (fun text -> task.Description <- $"{title} {text}"; task.Increment 1.0))
    else
        // No terminal (CI, pipes): a line every 10% instead of a redrawn bar.
        let finished = ref 0
        work (fun text ->
            finished.Value <- finished.Value + 1
            if finished.Value % max 1 (total / 10) = 0 || finished.Value = total then
                printfn "%s %3d%% %s" title (100 * finished.Value / total) text)

/// Reports provisioning steps (apt download, HTTP download) as plain lines.
let provisionProgress () : IProgress<ProvisionProgress> =
    let lastStage = ref ""
    let lastTenth = ref -1L
    { new IProgress<ProvisionProgress> with
        member _.Report p =
            if p.Total.HasValue && p.Total.Value > 0L then
                let tenth = 10L * p.Done / p.Total.Value
                if p.Stage <> lastStage.Value || tenth <> lastTenth.Value then
                    eprintfn "  %s: %d%%" p.Stage (10L * tenth)
                    lastTenth.Value <- tenth
            elif p.Stage <> lastStage.Value then
                eprintfn "  %s" p.Stage
            lastStage.Value <- p.Stage }
