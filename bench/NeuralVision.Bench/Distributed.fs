/// `./nv bench distributed`: LeNet training on 1 rank with 2 threads against 2 ranks with 1 thread each (data parallel
/// over Open MPI, the same global batch), and the time of the gradient all-reduce per step. Each configuration is a
/// fresh mpirun job; rounds alternate between them.
module NeuralVision.Bench.Distributed

open System
open System.IO
open System.Text.Json
open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Distributed
open NeuralVision.Bench.Measure

let private images, private batch, private measuredEpochs = 20000, 64, 3

/// Median milliseconds of an all-reduce (sum) of `count` floats between the ranks, over `repeats` calls.
let private allReduceMs (world: Communicator) (count: int64) (repeats: int) =
    use buffer = torch.ones(count)
    world.AllReduceSum buffer // warm-up: connections are made on first use
    [ for _ in 1 .. repeats ->
        world.Barrier()
        seconds (fun () -> world.AllReduceSum buffer) * 1000. ]
    |> median

/// One rank of a job (run under mpirun): a warm-up epoch and `measuredEpochs` timed ones; rank 0 writes `out`.
let rankMain (lenet: Layer) (out: string) =
    use world = Communicator.World()
    Seed.set 0
    let train = (FashionMnist.Load().Train.Take images).ToData()
    let model = Model.build [ 1; 28; 28 ] lenet
    let state = (Train.start (adam 1e-3) crossEntropy model).WithRanks world
    let epochs = Training.Train.Run(state, batches batch train) |> Seq.truncate (1 + measuredEpochs) |> List.ofSeq
    let seconds = epochs |> List.tail |> List.map (fun r -> r.Elapsed.TotalSeconds)
    let weights = model.ParameterCount
    let lenetMs = allReduceMs world weights 300
    let resnetMs = allReduceMs world 11_689_512L 10 // ResNet-18's weights, for the cost model
    if world.IsRoot then
        let result =
            {| ranks = world.Size; threads = torch.get_num_threads (); images_per_s = float (images - images % world.Size) / median seconds
               epoch_seconds = seconds; steps_per_epoch = (batches batch train).BatchesPerEpoch
               gradient_floats = weights; allreduce_ms = lenetMs; resnet18_sized_allreduce_ms = resnetMs |}
        File.WriteAllText(out, JsonSerializer.Serialize result)

/// Runs the comparison: `rounds` alternating jobs of each configuration; returns the JSON results.
let run (rounds: int) =
    let dll = Reflection.Assembly.GetEntryAssembly().Location
    let job ranks round =
        let out = Path.Combine(Path.GetTempPath(), $"nv-bench-distributed-{ranks}-{round}.json")
        let info = OpenMpi.Command(ranks, Environment.ProcessPath, [ dll; "--distributed-rank"; out ])
        use p = Diagnostics.Process.Start info
        p.WaitForExit()
        if p.ExitCode <> 0 then failwithf "the %d-rank job failed (exit %d)" ranks p.ExitCode
        let j = JsonDocument.Parse(File.ReadAllText out).RootElement
        File.Delete out
        let get (name: string) = j.GetProperty(name).GetDouble()
        printfn "  round %d, %d rank(s) x %d thread(s): %.0f images/s, all-reduce %.3f ms per step" round ranks (j.GetProperty("threads").GetInt32()) (get "images_per_s") (get "allreduce_ms")
        j
    printfn "LeNet on %d Fashion-MNIST images, global batch %d, Adam: 1 rank x 2 threads against 2 ranks x 1 thread; %d rounds" images batch rounds
    let runs = [ for r in 1 .. rounds -> job 1 r, job 2 r ]
    let of' (pick: JsonElement * JsonElement -> JsonElement) (name: string) = median [ for pair in runs -> (pick pair).GetProperty(name).GetDouble() ]
    let one, two = of' fst "images_per_s", of' snd "images_per_s"
    let allReduce, resnetAllReduce = of' snd "allreduce_ms", of' snd "resnet18_sized_allreduce_ms"
    let steps = (snd runs.Head).GetProperty("steps_per_epoch").GetDouble()
    let floats = (snd runs.Head).GetProperty("gradient_floats").GetDouble()
    let stepMs = float images / two / steps * 1000.
    let results =
        {| distributed_2ranks_vs_1rank = two / one
           one_rank_two_threads_images_per_s = one
           two_ranks_one_thread_images_per_s = two
           allreduce_ms_per_step = allReduce
           allreduce_share_of_step = allReduce / stepMs
           step_ms_two_ranks = stepMs
           gradient_bytes = floats * 4.
           ring_bytes_per_rank_per_step = 2. * (2. - 1.) / 2. * floats * 4.
           resnet18_sized_allreduce_ms = resnetAllReduce
           rounds = rounds; images = images; batch = batch
           cpu = cpu () |}
    printfn ""
    printfn "%-46s %10.0f" "1 rank x 2 threads (images/s)" one
    printfn "%-46s %10.0f" "2 ranks x 1 thread (images/s)" two
    printfn "%-46s %10.3f" "2 ranks / 1 rank" results.distributed_2ranks_vs_1rank
    printfn "%-46s %10.3f  (%.1f %% of a %.2f ms step)" "all-reduce of LeNet's gradient (ms per step)" allReduce (100. * results.allreduce_share_of_step) stepMs
    printfn "%-46s %10.2f" "all-reduce of ResNet-18's size, 47 MB (ms)" resnetAllReduce
    printfn "%-46s %s (%s)" "CPU" results.cpu.model (String.Join(" ", results.cpu.vector_extensions))
    results
