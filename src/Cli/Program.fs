/// The `nv` command line: ./nv <command> [options]. The bash script `nv` builds this program and passes its arguments on.
module NeuralVision.Cli.Program

open System
open System.IO
open Argu
open NeuralVision

type DemoArgs =
    | Epochs of int
    | Batch_Size of int
    | Out of string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Epochs _ -> "epochs to train (default 1)."
            | Batch_Size _ -> "images per step (default 64)."
            | Out _ -> "folder for the pictures (default out/demo)."

type TestArgs =
    | [<Last; MainCommand>] Expecto_Args of string list
    interface IArgParserTemplate with
        member _.Usage = "arguments passed to every Expecto test program (e.g. --filter-test-list tensors)."

type BenchArgs =
    | [<MainCommand>] Suite of suite: string
    | Json of path: string
    | Rounds of int
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Suite _ -> "what to measure: training (default), data (the loader against the training step) distributed (1 rank x 2 threads against 2 ranks x 1 thread, all-reduce time) profile (time per layer, forward and backward, of ResNet-18 and LeNet) or kernels (each of NeuralVision's own CPU kernels against libtorch's, alternating)."
            | Json _ -> "also write every figure to this JSON file."
            | Rounds _ -> "alternating rounds per variant (default 5)."

type ShowArgs =
    | [<MainCommand; Mandatory>] Set of name: string
    | Augment
    | Out of path: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Set _ -> "the data set (name or path)."
            | Augment -> "show the samples augmented (crop, flip, rotation, jitter, erasing)."
            | Out _ -> "the PNG to write (default out/data/NAME.png)."

type DataArgs =
    | [<CliPrefix(CliPrefix.None)>] Fetch of name: string
    | [<CliPrefix(CliPrefix.None)>] Describe of name: string
    | [<CliPrefix(CliPrefix.None)>] Show of ParseResults<ShowArgs>
    | [<CliPrefix(CliPrefix.None)>] List
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Fetch _ -> "fetch a data set into the data home."
            | Describe _ -> "rows, shape, classes with counts, mean and std of a data set (name, image folder or CSV)."
            | Show _ -> "draw a grid of (augmented) samples with labels."
            | List -> "the known data sets."

type ShapeArgs =
    | [<Mandatory>] Input of shape: string
    | [<Mandatory>] Out_Channels of int
    | [<Mandatory>] Kernel of int
    | Stride of int
    | Padding of int
    | Dilation of int
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Input _ -> "input shape N x C x H x W, e.g. 1x1x32x32."
            | Out_Channels _ -> "output channels of the convolution."
            | Kernel _ -> "kernel size."
            | Stride _ -> "stride (default 1)."
            | Padding _ -> "padding (default 0)."
            | Dilation _ -> "dilation (default 1)."

type SummaryArgs =
    | [<MainCommand; Mandatory>] Model_Name of model: string
    | Input of shape: string
    | Classes of int
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model_Name _ -> "the architecture: lenet, lenet-relu, alexnet, vgg11, vgg16, googlenet, resnet18, resnet34, resnet50 (-bn variants)."
            | Input _ -> "input shape C x H x W (default the model's usual one)."
            | Classes _ -> "number of classes (default 1000; 10 for LeNet)."

type RunArgs =
    | [<MainCommand; Mandatory>] Topic of topic: string
    | Quick
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Topic _ -> "the example: its number (02), its name (regression), or all."
            | Quick -> "the reduced form (minutes, not hours)."

type TrainArgs =
    | Data of dir: string
    | Arch of name: string
    | Pretrained
    | Epochs of int
    | Size of int
    | Batch of int
    | Lr of float
    | [<CustomCommandLine("--seed")>] Seed_Value of int
    | Validation of fraction: float
    | Patience of int
    | No_Augment
    | Out of dir: string
    | Resume
    | Ranks of int
    | Hostfile of file: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Data _ -> "the images: DIR/CLASS/*.png|jpg, one folder per class."
            | Arch _ -> "the network: lenet, small (a 4-stage CNN) or resnet18 (default small)."
            | Pretrained -> "start from the ImageNet-pretrained ResNet-18 (offline; implies --arch resnet18)."
            | Epochs _ -> "at most this many epochs (default 10; early stopping may end sooner)."
            | Size _ -> "images are resized to SIZE x SIZE RGB (default 28 for lenet, else 64)."
            | Batch _ -> "images per step (default 32)."
            | Lr _ -> "Adam's learning rate (default 0.001)."
            | Seed_Value _ -> "seed of the split, the weights and the order (default 0)."
            | Validation _ -> "the share of each class held out for validation (default 0.2)."
            | Patience _ -> "stop after this many epochs without a lower validation loss (default 3)."
            | No_Augment -> "train without augmentation (random crop and horizontal flip)."
            | Out _ -> "the run folder (default runs/DATE-TIME)."
            | Resume -> "continue the run in --out from its last checkpoint; the options must agree with its settings."
            | Ranks _ -> "train on N processes (data parallel over Open MPI, installed when missing); --batch is the total over all ranks."
            | Hostfile _ -> "with --ranks: spread the ranks over the machines of this Open MPI host file (same paths on every machine)."

type PredictArgs =
    | [<Mandatory>] Model of dir: string
    | Top of int
    | [<MainCommand; Mandatory>] Images of image: string list
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "the run folder `nv train` wrote (runs/NAME)."
            | Top _ -> "how many classes to show per image (default 3)."
            | Images _ -> "the images (JPEG or PNG)."

type EvaluateArgs =
    | [<Mandatory>] Model of dir: string
    | [<Mandatory>] Data of dir: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "the run folder `nv train` wrote (runs/NAME)."
            | Data _ -> "labelled images: DIR/CLASS/*.png|jpg with the run's class names."

/// For commands that take no options (Argu needs a template with at least one case).
type NoArgs =
    | [<Hidden>] Unused
    interface IArgParserTemplate with
        member _.Usage = ""

type Command =
    | [<CliPrefix(CliPrefix.None)>] Demo of ParseResults<DemoArgs>
    | [<CliPrefix(CliPrefix.None)>] Test of ParseResults<TestArgs>
    | [<CliPrefix(CliPrefix.None)>] Data of ParseResults<DataArgs>
    | [<CliPrefix(CliPrefix.None)>] Shape of ParseResults<ShapeArgs>
    | [<CliPrefix(CliPrefix.None)>] Bench of ParseResults<BenchArgs>
    | [<CliPrefix(CliPrefix.None)>] Summary of ParseResults<SummaryArgs>
    | [<CliPrefix(CliPrefix.None)>] Run of ParseResults<RunArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Predict of ParseResults<PredictArgs>
    | [<CliPrefix(CliPrefix.None)>] Evaluate of ParseResults<EvaluateArgs>
    | [<CliPrefix(CliPrefix.None)>] Info of ParseResults<NoArgs>
    | [<CliPrefix(CliPrefix.None)>] Mpirun of ParseResults<NoArgs>
    | [<CliPrefix(CliPrefix.None)>] Help of ParseResults<NoArgs>
    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Demo _ -> "train a LeNet-style CNN on Fashion-MNIST for one epoch; print the test accuracy; write pictures."
            | Test _ -> "run every test project; the last line is 'tests: N passed, N failed, N skipped'."
            | Data _ -> "data sets: list, fetch NAME, describe NAME|PATH, show NAME [--augment] [--out FILE.png]."
            | Run _ -> "run an example of the course (F# script) or all of them; pictures go to out/TOPIC/."
            | Train _ -> "train a classifier on DIR/CLASS/*.png|jpg; leaves runs/NAME with weights, metrics.csv, TensorBoard events, report.html, model.onnx."
            | Predict _ -> "the top classes of images, by a run's model."
            | Evaluate _ -> "a run's model on labelled images: accuracy, per-class precision and recall, confusion matrix."
            | Summary _ -> "the layer table of an architecture; its last line is 'total params: N'."
            | Bench _ -> "benchmarks: NeuralVision against plain TorchSharp (training, step overhead, inference, memory); --json FILE."
            | Shape _ -> "the course's calc_out_shape: the N x C x H x W output of a convolution."
            | Info _ -> "show where libtorch was loaded from, the device, and the data home."
            | Mpirun _ -> "Open MPI's mpirun with its own arguments (installed when missing, allowed as root): ./nv mpirun -np 2 ./nv train …"
            | Help _ -> "list the commands."

/// The repository root: NV_ROOT (set by ./nv), else the current folder.
let private root () =
    match Environment.GetEnvironmentVariable "NV_ROOT" with
    | null | "" -> Directory.GetCurrentDirectory()
    | r -> r

/// The root for a command that runs the repository's own files (examples, tests, benchmarks): the program can be
/// started from anywhere (`dotnet nv.dll`), and a root that is not the repository gets one error saying how to
/// point at it, instead of a missing folder found halfway through.
let private repository (command: string) (usage: string -> string) =
    let folder = root ()
    if File.Exists(Path.Combine(folder, "nv")) && Directory.Exists(Path.Combine(folder, "examples")) then folder
    else usage $"'{command}' runs the repository's own files, and {folder} is not the NeuralVision repository (no nv script and examples folder there): run ./nv {command} from the repository's folder, or set NV_ROOT to it."

let private info () =
    let report = Native.TorchNative.EnsureLoaded()
    printfn "libtorch:        %s" report.LibTorchDirectory
    printfn "bridge:          %s" report.Bridge
    printfn "weakened:        %s" (match List.ofSeq report.WeakenedVersions with [] -> "(none: the host's libstdc++ has every version)" | v -> String.Join(", ", v))
    printfn "allocator:       %s" report.Allocator
    printfn "reproducibility: %s" report.Reproducibility
    printfn "device:          %O" (Device.current ())
    printfn "threads:         %d" (TorchSharp.torch.get_num_threads ())
    printfn "data home:       %s" Data.Provisioning.DataHome
    0

let private data (args: ParseResults<DataArgs>) =
    let progress = Console.provisionProgress ()
    let known (name: string) =
        let names = Data.Catalog.Entries |> Seq.map (fun struct (n, _) -> n) |> Set.ofSeq
        if not (names.Contains name || name = "sklearn" || Directory.Exists name || File.Exists name) then
            let list = String.Join(", ", names)
            args.Raise($"'{name}' is neither a known data set ({list}) nor an existing folder or file.", showUsage = true)
    match args.GetAllResults() |> List.tryHead with
    | None -> args.Raise("say what to do with data: list, fetch, describe or show.", showUsage = true)
    | Some (Fetch name) ->
        known name
        printfn "%s: %s" name (Data.Catalog.Fetch(name, progress))
        0
    | Some (Describe name) ->
        known name
        printfn "%s" (Data.Catalog.Describe(name, progress))
        0
    | Some List ->
        for (name, about) in Data.Catalog.Entries do printfn "%-14s %s" name about
        0
    | Some (Show show) ->
        let name = show.GetResult Set
        known name
        let out = show.GetResult(ShowArgs.Out, Path.Combine(root (), "out", "data", Path.GetFileName(name.TrimEnd('/')) + (if show.Contains Augment then "-augmented" else "") + ".png"))
        let struct (part, set, classes) = Data.Catalog.Parts(name, progress) |> Seq.head
        if set.Inputs.dim () <> 4L then show.Raise($"{name} is a table, not images; use 'data describe'.")
        Seed.set 0
        let loader = Data.Loader.Create(set, 32)
        let loader =
            if show.Contains Augment then
                let steps : Data.Augmentation list =
                    [ Data.RandomCrop 3; Data.HorizontalFlip(); Data.Affine(15.0, 0.05, 0.9, 1.1); Data.ColourJitter(); Data.RandomErasing(0.3) ]
                loader.WithAugmentation(Data.Augmenter.Of(Data.AugmentTargets.Labels, Array.ofList steps))
            else loader
        let batch = loader.Epoch 1 |> Seq.head
        let labels = batch.Targets.data<int64>().ToArray()
        Plot.ImageGrid.Samples(out, batch.Inputs, [| for l in labels -> if int l < classes.Count then classes.[int l] else string l |])
        printfn "%s (%s): %s" name part out
        0

let private shape (args: ParseResults<ShapeArgs>) =
    let input =
        try Layers.Shape.Parse(args.GetResult ShapeArgs.Input) |> Array.ofSeq
        with :? FormatException as e -> args.Raise(e.Message, showUsage = true)
    if input.Length <> 4 then
        args.Raise($"--input needs N x C x H x W (4 sizes), got {input.Length}.", showUsage = true)
    let output =
        Layers.ConvArithmetic.CalcOutShape(
            input, int64 (args.GetResult Out_Channels), int64 (args.GetResult Kernel),
            int64 (args.GetResult(Stride, 1)), int64 (args.GetResult(Padding, 0)), int64 (args.GetResult(Dilation, 1)))
    if output |> Array.exists (fun d -> d < 1L) then
        eprintfn "the kernel does not fit: the output would be %s; pad more or use a smaller kernel" (String.Join("x", output))
        1
    else
        printfn "%s" (String.Join("x", output))
        0

/// `nv train`: a new run from the options, or (--resume) the run in --out continued, refusing options that disagree with it.
/// With --ranks N it starts itself on N ranks under mpirun; started by mpirun, every rank runs it and joins the others.
let private train (argv: string list) (t: ParseResults<TrainArgs>) =
    let positive name (value: 'T) = if value <= Unchecked.defaultof<'T> then t.Raise($"--{name} must be above 0, got {value}.", showUsage = true)
    let out = t.GetResult(TrainArgs.Out, Path.Combine(root (), "runs", DateTime.Now.ToString "yyyyMMdd-HHmmss"))
    match t.TryGetResult Ranks with
    | Some n when n < 1 -> t.Raise($"--ranks must be at least 1, got {n}.", showUsage = true)
    | Some n when not Distributed.Communicator.LaunchedByMpirun ->
        // Every rank must write to the same run folder: fix the default one now.
        let argv = if t.Contains TrainArgs.Out then argv else argv @ [ "--out"; out ]
        RankLauncher.launch n (t.TryGetResult Hostfile |> Option.map Path.GetFullPath) argv (RunFolder.statePath out)
    | _ ->
    if t.Contains Hostfile && not (t.Contains Ranks) then t.Raise("--hostfile goes with --ranks N.", showUsage = true)
    let ranks = Distributed.Communicator.World()
    match t.TryGetResult Ranks with
    | Some n when n <> ranks.Size -> t.Raise($"--ranks {n} disagrees with mpirun, which started {ranks.Size} ranks; leave --ranks out under mpirun.")
    | _ -> ()
    if ranks.IsDistributed && not (t.Contains TrainArgs.Out) then
        t.Raise("under mpirun give --out DIR: every rank must write to (and resume from) the same run folder.", showUsage = true)
    let ready (settings: RunFolder.RunSettings) =
        if settings.Batch % ranks.Size <> 0 then t.Raise($"--batch {settings.Batch} cannot be shared evenly by {ranks.Size} ranks; use a multiple of {ranks.Size} (it is the total over all ranks).")
        // Every rank has checked the run folder before rank 0 writes its settings into it.
        ranks.Barrier()
        settings
    let check (settings: RunFolder.RunSettings) =
        positive "epochs" settings.Epochs; positive "batch" settings.Batch; positive "lr" settings.Lr; positive "patience" settings.Patience
        if settings.Size < 16 then t.Raise($"--size must be at least 16, got {settings.Size}.", showUsage = true)
        if settings.Validation <= 0.0 || settings.Validation >= 0.9 then t.Raise($"--validation must be between 0 and 0.9, got {settings.Validation}.", showUsage = true)
        if not (List.contains settings.Arch RunFolder.architectures) then
            let known = String.Join(", ", RunFolder.architectures)
            t.Raise($"unknown --arch '{settings.Arch}'; use one of {known}.", showUsage = true)
        if settings.Pretrained && settings.Arch <> "resnet18" then t.Raise($"--pretrained is the ImageNet ResNet-18; it cannot be --arch {settings.Arch}.", showUsage = true)
        settings
    if t.Contains Resume then
        let saved = RunFolder.load out
        let agree (option: string) (given: 'T option) (kept: 'T) =
            match given with
            | Some value when value <> kept ->
                t.Raise($"--{option} {value} disagrees with the run in {out}, which was started with --{option} {kept}; resume with the same options, or start a new run with another --out.")
            | _ -> ()
        agree "data" (t.TryGetResult TrainArgs.Data |> Option.map Path.GetFullPath) saved.Data
        agree "arch" (t.TryGetResult Arch) saved.Arch
        agree "pretrained" (if t.Contains Pretrained then Some true else None) saved.Pretrained
        agree "size" (t.TryGetResult Size) saved.Size
        agree "batch" (t.TryGetResult Batch) saved.Batch
        agree "lr" (t.TryGetResult Lr) saved.Lr
        agree "seed" (t.TryGetResult Seed_Value) saved.Seed
        agree "validation" (t.TryGetResult Validation) saved.Validation
        agree "patience" (t.TryGetResult Patience) saved.Patience
        agree "augment" (if t.Contains No_Augment then Some false else None) saved.Augment
        if not (File.Exists(RunFolder.statePath out)) then t.Raise($"{out} has no checkpoint to resume (state.nvck): its run never finished an epoch; start it again without --resume.")
        let accuracy = ImageTraining.train (ready (check { saved with Epochs = t.GetResult(Epochs, saved.Epochs) })) out true ranks
        if Double.IsFinite accuracy then 0 else 1
    else
        if File.Exists(RunFolder.settingsPath out) then
            t.Raise($"{out} already holds a run; continue it with --resume, or give another --out.")
        let data = match t.TryGetResult TrainArgs.Data with Some d -> Path.GetFullPath d | None -> t.Raise("--data DIR is needed: a folder with one subfolder of images per class.", showUsage = true)
        let arch = if t.Contains Pretrained then t.GetResult(Arch, "resnet18") else t.GetResult(Arch, "small")
        let settings : RunFolder.RunSettings =
            { Data = data; Arch = arch; Pretrained = t.Contains Pretrained; Epochs = t.GetResult(Epochs, 10)
              Size = t.GetResult(Size, if arch = "lenet" then 28 else 64); Batch = t.GetResult(Batch, 32); Lr = t.GetResult(Lr, 1e-3)
              Seed = t.GetResult(Seed_Value, 0); Validation = t.GetResult(Validation, 0.2); Patience = t.GetResult(Patience, 3)
              Augment = not (t.Contains No_Augment); Classes = [||] }
        let accuracy = ImageTraining.train (ready (check settings)) out false ranks
        if Double.IsFinite accuracy then 0 else 1

let private dispatch (parser: ArgumentParser<Command>) (args: ParseResults<Command>) =
    match args.GetSubCommand() with
    | Demo d ->
        let epochs, batch = d.GetResult(DemoArgs.Epochs, 1), d.GetResult(Batch_Size, 64)
        if epochs < 1 then d.Raise($"--epochs must be at least 1, got {epochs}.", showUsage = true)
        if batch < 1 then d.Raise($"--batch-size must be at least 1, got {batch}.", showUsage = true)
        let accuracy = Demo.run epochs batch (d.GetResult(DemoArgs.Out, Path.Combine(root (), "out", "demo")))
        if accuracy > 0.0 then 0 else 1
    | Test t ->
        let folder = repository "test" (fun m -> t.Raise(m, showUsage = true))
        // Data-dependent tests run on real data: provision it once here, not in parallel inside tests.
        Data.Provisioning.Ensure(Data.FashionMnist.Spec, Console.provisionProgress ()) |> ignore
        TestRunner.run folder "Release" (t.GetResult(Expecto_Args, []))
    | Data d -> data d
    | Shape s -> shape s
    | Run r -> Examples.run (repository "run" (fun m -> r.Raise(m, showUsage = true))) (r.GetResult Topic) (r.Contains Quick) (fun message -> r.Raise(message, showUsage = true))
    | Summary s ->
        let name = s.GetResult Model_Name
        let defaultClasses = if name.StartsWith "lenet" then 10 else 1000
        let classes = s.GetResult(Classes, defaultClasses)
        if classes < 1 then s.Raise("--classes must be at least 1.", showUsage = true)
        let layer, usual =
            try Vision.Architectures.Get(name, classes) |> fun struct (l, i) -> l, i
            with :? ArgumentException as e -> s.Raise(e.Message, showUsage = true)
        let input =
            match s.TryGetResult SummaryArgs.Input with
            | Some text -> (try Layers.Shape.Parse text with :? FormatException as e -> s.Raise(e.Message, showUsage = true))
            | None -> Layers.Shape(usual)
        let model = Layers.Model.Build(layer, input, TorchSharp.torch.CPU)
        printfn "%s" (model.Summary())
        0
    | Bench b ->
        match b.TryGetResult Rounds with
        | Some r when r < 1 -> b.Raise("--rounds must be at least 1.", showUsage = true)
        | _ -> ()
        let dll = Path.Combine(repository "bench" (fun m -> b.Raise(m, showUsage = true)), "bench", "NeuralVision.Bench", "bin", "Release", "net10.0", "NeuralVision.Bench.dll")
        let suite =
            match b.TryGetResult Suite with
            | None | Some "training" -> []
            | Some "data" -> [ "--data" ]
            | Some "distributed" -> [ "--distributed" ]
            | Some "profile" -> [ "--profile" ]
            | Some "kernels" -> [ "--kernels" ]
            | Some other -> b.Raise($"unknown benchmark '{other}'; use training, data, distributed, profile or kernels.", showUsage = true)
        let args = [ yield "exec"; yield dll; yield! suite
                     match b.TryGetResult Json with Some p -> yield! [ "--json"; Path.GetFullPath p ] | None -> ()
                     match b.TryGetResult Rounds with Some r -> yield! [ "--rounds"; string r ] | None -> () ]
        use p = Diagnostics.Process.Start("dotnet", args)
        p.WaitForExit()
        p.ExitCode
    | Train t -> train (List.ofArray (Environment.GetCommandLineArgs()) |> List.tail) t
    | Predict p -> RunUse.predict (p.GetResult PredictArgs.Model) (p.GetResult Images) (p.GetResult(Top, 3))
    | Evaluate e -> RunUse.evaluate (e.GetResult EvaluateArgs.Model) (e.GetResult EvaluateArgs.Data)
    | Info _ -> info ()
    | Mpirun _ -> RankLauncher.mpirun [] // reached only without arguments (main hands `mpirun ARGS` over directly)
    | Help _ -> printfn "%s" (parser.PrintUsage(hideSyntax = true)); 0

let private run argv =
    Native.TorchNative.EnsureLoaded() |> ignore
    let parser = ArgumentParser.Create<Command>(programName = "./nv", usageStringCharacterWidth = 160)
    try
        match argv with
        | [||] -> printfn "%s" (parser.PrintUsage()); 0
        // mpirun's own options (-np, --hostfile…) are not ours to parse: everything after `mpirun` goes to it as is.
        | _ when argv.[0] = "mpirun" -> RankLauncher.mpirun (List.ofArray argv.[1..])
        | _ -> dispatch parser (parser.ParseCommandLine(argv, raiseOnUsage = true))
    with
    | :? ArguParseException as e ->
        // Argu puts the usage text into the message; a bad argument is the caller's mistake: exit 2.
        eprintfn "%s" e.Message
        if e.ErrorCode = ErrorCode.HelpText then 0 else 2
    | :? Data.DataException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? DamagedFileException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? Training.CheckpointException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? Native.NativeLibraryException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? Distributed.RanksDisagreeException as e ->
        // Every rank finds the disagreement at once; rank 0 reports it, and the others wait until it has (the first
        // rank to exit with an error aborts the whole job).
        let ranks = Distributed.Communicator.World()
        if ranks.IsRoot then eprintfn "error: %s" e.Message
        ranks.Barrier()
        1

[<EntryPoint>]
let main argv =
    let code = run argv
    // Under mpirun the exit code decides how the rank ends: finalising with the others, or aborting the job.
    Environment.ExitCode <- code
    code
