/// Optimisers as values, checked step by step against paths that PyTorch itself produced
/// (fixtures/optimizer-paths.json, made by fixtures/make_optimizer_paths.py), and the schedules'
/// closed forms against hand-computed values.
module NeuralVision.Tests.OptimiserTests

open System
open System.IO
open System.Text.Json
open Expecto
open TorchSharp
open NeuralVision.Optim

/// The optimiser values that correspond to the fixture's PyTorch configurations.
let private configurations : Map<string, Optimiser> =
    Map [
        "sgd", Sgd(0.001)
        "momentum", Sgd(0.001, Momentum = 0.9)
        "momentum-dampening", Sgd(0.001, Momentum = 0.9, Dampening = 0.5)
        "nesterov", Sgd(0.001, Momentum = 0.9, Nesterov = true)
        "sgd-weight-decay", Sgd(0.001, Momentum = 0.9, WeightDecay = 0.01)
        "rprop", Rprop(0.01, 0.5, 1.2, 1e-6, 50.)
        "rmsprop", RmsProp(0.01, 0.99, 1e-8)
        "rmsprop-centered", RmsProp(0.01, 0.9, 1e-8, WeightDecay = 0.01, Momentum = 0.5, Centered = true)
        "adagrad", Adagrad(0.1, LrDecay = 0.01, WeightDecay = 0.01, Eps = 1e-10)
        "adam", Adam(0.01)
        "adam-amsgrad", Adam(0.01, WeightDecay = 0.01, Amsgrad = true)
        "adamw", AdamW(0.01, WeightDecay = 0.1)
    ]

let private functions : Map<string, torch.Tensor -> torch.Tensor> =
    let one = torch.tensor 1.0
    Map [
        "rosenbrock", fun w -> (one - w.[0]).square() + (w.[1] - w.[0].square()).square() * torch.tensor 100.0
        "elongated", fun w -> w.[0].square() + w.[1].square() * torch.tensor 20.0
    ]

type private Reference = { Optimizer: string; Function: string; Start: float[]; Path: float[][] }

let private references =
    lazy (
        let file = Path.Combine(Repo.root.Value, "tests", "NeuralVision.Tests", "fixtures", "optimizer-paths.json")
        use doc = JsonDocument.Parse(File.ReadAllText file)
        [ for p in doc.RootElement.GetProperty("paths").EnumerateArray() ->
              let floats (e: JsonElement) = [| for x in e.EnumerateArray() -> x.GetDouble() |]
              { Optimizer = p.GetProperty("optimizer").GetString()
                Function = p.GetProperty("function").GetString()
                Start = floats (p.GetProperty "start")
                Path = [| for point in p.GetProperty("path").EnumerateArray() -> floats point |] } ])

let private pathTests =
    testList "the same path as PyTorch, step by step (float64)" [
        test "the fixture covers every optimiser on both functions" {
            Expect.equal references.Value.Length 24 "12 configurations × 2 functions"
            Expect.equal (references.Value |> List.map _.Optimizer |> Set.ofList) (configurations |> Map.keys |> Set.ofSeq) "names"
        }
        for reference in references.Value do
            test $"{reference.Optimizer} on {reference.Function}" {
                let path = configurations.[reference.Optimizer].Minimise(Func<_, _> functions.[reference.Function], reference.Start, reference.Path.Length - 1)
                for i in 0 .. path.Length - 1 do
                    for j in 0 .. 1 do
                        let ours, theirs = path.[i].[j], reference.Path.[i].[j]
                        // Same algorithm, same float64 operations: 23 of the 24 paths are bit-identical, one differs by 3e-21.
                        if abs (ours - theirs) > 1e-15 * (1. + abs theirs) then
                            failtest $"step {i}, coordinate {j}: ours {ours:R}, PyTorch {theirs:R}"
                let moved = abs (path.[path.Length - 1].[0] - reference.Start.[0]) + abs (path.[path.Length - 1].[1] - reference.Start.[1])
                Expect.isGreaterThan moved 1e-3 "the optimiser moved"
            }
    ]

let private valueTests =
    testList "optimiser values" [
        test "equal by value, and a new learning rate gives a new value" {
            Expect.equal (Adam(0.01)) (Adam(0.01)) "same settings"
            let faster = Sgd(0.1, Momentum = 0.9).WithLearningRate 0.5
            Expect.equal faster (Sgd(0.5, Momentum = 0.9) :> Optimiser) "only the rate changed"
        }
        test "Nesterov without momentum is refused, with one group or several" {
            let nesterov = Sgd(0.1, Nesterov = true)
            Expect.throwsT<ArgumentException> (fun () -> nesterov.Minimise(Func<_, _>(fun w -> w.square().sum()), [| 1.0 |], 1) |> ignore) "one group: needs momentum"
            let model = NeuralVision.Model.build [ 2 ] (NeuralVision.Layers.Sequence.Of(NeuralVision.Layers.Net.Named("a", NeuralVision.Layers.Net.Linear 2L), NeuralVision.Layers.Net.Named("b", NeuralVision.Layers.Net.Linear 1L)))
            Expect.throwsT<ArgumentException> (fun () -> NeuralVision.Training.Train.Start(model, nesterov, NeuralVision.Losses.Loss.Mse(), groups = [| struct ("a", 0.1); struct ("", 0.01) |]) |> ignore) "groups: needs momentum"
        }
    ]

let private scheduleTests =
    let close expected actual message = Expect.floatClose { absolute = 1e-15; relative = 1e-12 } actual expected message
    testList "schedules" [
        test "step decay" {
            let s = StepDecay(3, 0.5)
            Expect.equal [ for e in 0 .. 6 -> s.At(e, 0.1) ] [ 0.1; 0.1; 0.1; 0.05; 0.05; 0.05; 0.025 ] "halved every 3 epochs"
        }
        test "cosine annealing" {
            let s = Cosine(10, 0.001)
            close 0.1 (s.At(0, 0.1)) "starts at the base rate"
            close (0.001 + 0.099 / 2.) (s.At(5, 0.1)) "half way: the middle"
            close 0.001 (s.At(10, 0.1)) "ends at eta_min"
        }
        test "one-cycle" {
            let s = OneCycle(1.0, 100)
            close 0.04 (s.At(0, 0.)) "starts at max/25"
            close 1.0 (s.At(29, 0.)) "peaks at the end of the first 30%"
            close (0.04 / 1e4) (s.At(99, 0.)) "ends at max/25/1e4"
            let rising = [ for i in 0 .. 29 -> s.At(i, 0.) ]
            Expect.isTrue (List.pairwise rising |> List.forall (fun (a, b) -> b > a)) "rises during warm-up"
        }
        test "reduce on plateau" {
            let plateau = ReduceOnPlateau(Factor = 0.5, Patience = 2)
            let states = [ 1.0; 0.9; 0.95; 0.93; 0.91; 0.92 ] |> List.scan (fun s v -> plateau.Next(s, v)) (plateau.Start 0.1) |> List.tail
            Expect.equal [ for s in states -> s.Lr ] [ 0.1; 0.1; 0.1; 0.1; 0.05; 0.05 ] "halved after three epochs without improvement"
        }
    ]

/// Adam's step as the library runs it (FusedAdam: three passes over memory) against TorchSharp's own, on float32
/// weights: model a is 500 → 300, 150,300 weights, more than one thread's share and not a whole number of vectors.
let private fusedAdamTests =
    testList "Adam's fused step" [
        for decay, twoRates in [ 0.0, false; 0.01, false; 0.0, true ] do
            let name = $"float32 weights move bit for bit as under TorchSharp's Adam (weight decay {decay}" + (if twoRates then ", a group at its own rate" else "") + "; 30 steps)"
            test name {
                let steps = 30
                // No seeding (tests beside this one draw from the same generator): the hand-made modules copy the model's start.
                let x, y = torch.randn(64L, 500L), torch.randn(64L, 10L)
                let model = NeuralVision.Model.build [ 500 ] (NeuralVision.Layers.Sequence.Of(NeuralVision.Layers.Net.Named("a", NeuralVision.Layers.Net.Linear 300L), NeuralVision.Layers.Net.Named("b", NeuralVision.Layers.Net.Linear 10L)))
                let a, b = torch.nn.Linear(500L, 300L), torch.nn.Linear(300L, 10L)
                let pairs () =
                    let ours = model.Parameters |> Seq.map (fun p -> p.Path, p.Value) |> Map.ofSeq
                    let names = String.Join(", ", ours.Keys)
                    [ for path, theirs in [ "a.weight", a.weight; "a.bias", a.bias; "b.weight", b.weight; "b.bias", b.bias ] ->
                          Expect.isTrue (ours.ContainsKey path) $"the model has {path} (it has {names})"
                          path, ours.[path], theirs ]
                do
                    use noGrad = torch.no_grad()
                    for _, ours, theirs in pairs () do theirs.copy_(ours) |> ignore
                let start = a.weight.detach().clone()
                let rates = if twoRates then [| struct ("a", 0.02); struct ("", 0.01) |] else null
                let mutable state = NeuralVision.Training.Train.Start(model, Adam(0.01, WeightDecay = decay), NeuralVision.Losses.Loss.Mse(), groups = rates)
                for _ in 1 .. steps do state <- NeuralVision.Training.Train.Step(state, new NeuralVision.Data.Batch(x, y))
                // The fused passes ran (a silent fall-back to TorchSharp's step would pass the comparison below): they
                // keep one scratch buffer per parameter they updated.
                let flags = Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic
                let updater = state.GetType().GetProperty("Updater", flags).GetValue(state)
                Expect.equal (updater.GetType().Name) "FusedAdam" "Adam's updater"
                let scratch = updater.GetType().GetField("scratch", flags).GetValue(updater) :?> Collections.IDictionary
                Expect.isGreaterThan scratch.Count 0 "the fused passes ran"
                // The same by hand, with TorchSharp's Adam.
                let group (parameters: seq<Modules.Parameter>) (lr: float) = Modules.Adam.ParamGroup(parameters, lr, 0.9, 0.999, 1e-8, decay, false)
                let groups =
                    if twoRates then [ group (a.parameters()) 0.02; group (b.parameters()) 0.01 ]
                    else [ group (Seq.append (a.parameters()) (b.parameters())) 0.01 ]
                use reference = new Modules.Adam(groups, 0.01, 0.9, 0.999, 1e-8, decay, false)
                for _ in 1 .. steps do
                    use scope = torch.NewDisposeScope()
                    reference.zero_grad()
                    torch.nn.functional.mse_loss(b.forward(a.forward(x)), y).backward()
                    reference.step() |> ignore
                for path, ours, theirs in pairs () do
                    let differing = ours.ne(theirs).sum().item<int64>()
                    Expect.equal differing 0L $"{path}: elements that differ from TorchSharp's Adam, of {theirs.numel()}"
                Expect.isGreaterThan (a.weight.detach().sub(start).abs().max().item<float32>()) 1e-3f "the weights moved"
            }
        // A weight whose gradient stays 0 sees its first moment decay below float's normal range; the fused passes
        // decay such moments, and divide such steps, by integer arithmetic instead of the multiplications (each an
        // assist of ~150 cycles). Elements of every kind side by side, so that vectors hold them mixed: live
        // gradients; a gradient that stops (its moment decays through the subnormal floats); one that stops and comes
        // back; tiny gradients (1e-40, 1e-22); zeros of both signs; tiny and zero weights. Two rates: one whose step
        // stays at most 1 (the integer path) and one whose first steps exceed it (the plain path).
        for lr in [ 1e-3; 0.3 ] do
            test $"moments below float's normal range, bit for bit as under TorchSharp's Adam (rate {lr}, 160 steps)" {
                let n = 4099L
                let generator = new torch.Generator(7UL)
                let kind = torch.randint(0L, 8L, [| n |], generator = generator)
                let isKind k = kind.eq(torch.tensor (int64 k))
                let start =
                    torch.randn([| n |], generator = generator).mul(torch.tensor 0.05f)
                        .where(isKind 6 |> torch.logical_not, torch.tensor 1e-35f)
                        .where(isKind 7 |> torch.logical_not, torch.tensor 0.0f)
                let gradientAt (step: int) =
                    let live = torch.randn([| n |], generator = generator)
                    let stopping = live.mul(torch.tensor 1e-33f)
                    let g = torch.zeros([| n |])
                    let g = g.where(isKind 0 |> torch.logical_not, live)
                    let g = if step <= 2 then g.where(isKind 1 |> torch.logical_not, stopping) else g
                    let g = if step <= 2 || step > 120 then g.where(isKind 2 |> torch.logical_not, stopping) else g
                    let g = g.where(isKind 3 |> torch.logical_not, live.sign().mul(torch.tensor (if step % 2 = 0 then 1e-40f else 1e-22f)))
                    let g = g.where(isKind 4 |> torch.logical_not, torch.tensor -0.0f)
                    // Tiny and zero weights: a gradient that stops, so that their moments too decay.
                    let g = if step <= 2 then g.where((isKind 6).logical_or(isKind 7) |> torch.logical_not, stopping) else g
                    g
                let ours, theirs = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
                let flags = Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic
                let create = typeof<Optimiser>.GetMethod("CreateUpdater", flags, [| typeof<Collections.Generic.IEnumerable<Modules.Parameter>> |])
                use fused = create.Invoke(Adam(lr), [| box (seq [ ours ]) |]) :?> torch.optim.Optimizer
                Expect.equal (fused.GetType().Name) "FusedAdam" "Adam's updater"
                use reference = torch.optim.Adam([ theirs ], lr)
                let mutable belowNormal = 0L
                for step in 1 .. 160 do
                    use scope = torch.NewDisposeScope()
                    let g = gradientAt step
                    for p, optimiser in [ ours, fused; theirs, reference ] do
                        optimiser.zero_grad()
                        (p * g).sum().backward()
                        optimiser.step() |> ignore
                    let stateOf (optimiser: torch.optim.Optimizer) (p: Modules.Parameter) =
                        let rec field (t: Type) = match t.GetField("_state", flags) with null -> field t.BaseType | f -> f
                        let states = (field (optimiser.GetType())).GetValue(optimiser) :?> Utils.OrderedDict<nativeint, Modules.OptimizerState>
                        states.[p.Handle] :?> Modules.Adam.State
                    let a, b = stateOf fused ours, stateOf reference theirs
                    // Finite floats equal bit for bit: equal values (subnormals compared exactly) and the same sign of zero.
                    let differing (x: torch.Tensor) (y: torch.Tensor) =
                        x.detach().ne(y.detach()).logical_or(x.detach().signbit().ne(y.detach().signbit())).sum().item<int64>()
                    Expect.equal (differing ours theirs) 0L $"step {step}: weights that differ from TorchSharp's Adam"
                    Expect.equal (differing a.exp_avg b.exp_avg) 0L $"step {step}: first moments that differ"
                    Expect.equal (differing a.exp_avg_sq b.exp_avg_sq) 0L $"step {step}: second moments that differ"
                    let m = b.exp_avg.abs()
                    belowNormal <- belowNormal + m.gt(torch.tensor 0.0f).logical_and(m.lt(torch.tensor 1.1754944e-38f)).sum().item<int64>()
                Expect.isGreaterThan belowNormal 10000L "first moments below float's normal range were met"
            }
    ]

let tests = testList "optimisers" [ pathTests; valueTests; fusedAdamTests; scheduleTests ]
