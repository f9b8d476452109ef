/// Tensor math that reads like math: `tensor [[1.; 2.]; [3.; 4.]]`, `zeros [2; 3]`, `10.0 * (w ** 2.0).sum()`,
/// `sqrt (exp t)`, `t.[0..1, *]`, `grad f x`. Every function returns a new tensor; none changes its input.
namespace NeuralVision

// F# warns that member constraints named Sqrt, Pow… are special (primitive types are augmented with them); that
// augmentation is exactly what lets the same `sqrt` serve floats and tensors, so the warning is expected here.
#nowarn "77"

open System
open System.Collections
open TorchSharp

/// The tensor overloads behind F#'s math functions and `**` when NeuralVision is open. F# resolves `sqrt x`
/// through a static member `Sqrt` on x's type; TorchSharp's Tensor has none (and type extensions do not satisfy
/// member constraints), so these overloads stand in for it. Floats keep .NET's own (Double.Sqrt, Double.Pow…).
[<AbstractClass; Sealed>]
type TensorMath =
    static member Sqrt(x: Tensor) = x.sqrt()
    static member Exp(x: Tensor) = x.exp()
    static member Log(x: Tensor) = x.log()
    static member Abs(x: Tensor) = x.abs()
    static member Sin(x: Tensor) = x.sin()
    static member Cos(x: Tensor) = x.cos()
    static member Tan(x: Tensor) = x.tan()
    static member Pow(x: Tensor, p: float) = x.pow(p.ToScalar())
    static member Pow(x: Tensor, p: int) = x.pow((int64 p).ToScalar())
    static member Pow(x: Tensor, p: Tensor) = x.pow(p)
    // A second overload per name keeps F# from deciding on Tensor before it knows the argument's type
    // (with one candidate it would, and `sqrt 2.0` would then fail). Never called.
    static member Sqrt(x: TensorMath) = x
    static member Exp(x: TensorMath) = x
    static member Log(x: TensorMath) = x
    static member Abs(x: TensorMath) = x
    static member Sin(x: TensorMath) = x
    static member Cos(x: TensorMath) = x
    static member Tan(x: TensorMath) = x

/// The dispatch behind the math functions: public only because inline functions must be.
[<ComponentModel.EditorBrowsable(ComponentModel.EditorBrowsableState.Never)>]
module TensorMathDispatch =
    let inline sqrtOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Sqrt : ^T -> ^R) x)
    let inline expOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Exp : ^T -> ^R) x)
    let inline logOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Log : ^T -> ^R) x)
    let inline absOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Abs : ^T -> ^R) x)
    let inline sinOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Sin : ^T -> ^R) x)
    let inline cosOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Cos : ^T -> ^R) x)
    let inline tanOf (_: ^W) (x: ^T) : ^R = ((^W or ^T) : (static member Tan : ^T -> ^R) x)
    let inline powOf (_: ^W) (x: ^T) (p: ^P) : ^R = ((^W or ^T or ^P) : (static member Pow : ^T * ^P -> ^R) (x, p))

/// Making tensors from F# values, and math on them. Floats give float32 tensors (PyTorch's default), integers
/// int64 (as class labels are held), booleans bool.
[<AutoOpen>]
module TensorFunctions =
    open TensorMathDispatch

    /// √x for floats and tensors (element-wise).
    let inline sqrt x = sqrtOf Unchecked.defaultof<TensorMath> x
    /// eˣ for floats and tensors.
    let inline exp x = expOf Unchecked.defaultof<TensorMath> x
    /// The natural logarithm of floats and tensors.
    let inline log x = logOf Unchecked.defaultof<TensorMath> x
    /// |x| for numbers and tensors.
    let inline abs x = absOf Unchecked.defaultof<TensorMath> x
    /// sin x for floats and tensors.
    let inline sin x = sinOf Unchecked.defaultof<TensorMath> x
    /// cos x for floats and tensors.
    let inline cos x = cosOf Unchecked.defaultof<TensorMath> x
    /// tan x for floats and tensors.
    let inline tan x = tanOf Unchecked.defaultof<TensorMath> x
    /// xᵖ: floats, and tensors with a float, int or tensor exponent (`w ** 2.0`, `w ** 2`, `w ** v`). A float base
    /// with a tensor exponent is `exp (v * log 2.0)`: F# settles `float ** _` itself before looking at the exponent.
    let inline ( ** ) x p = powOf Unchecked.defaultof<TensorMath> x p

    /// The shape and the values, in row-major order, of a number, an F# list, array or sequence (nested to any
    /// depth) or a multi-dimensional array.
    let private shapeAndValues (value: obj) : int64 list * ResizeArray<obj> =
        let values = ResizeArray<obj>()
        let rec walk (path: string) (v: obj) : int64 list =
            match v with
            | null -> invalidArg "values" $"tensor: the value at {path} is null; give numbers."
            | :? string -> invalidArg "values" $"tensor: the value at {path} is a string; give numbers."
            | :? Array as a when a.Rank > 1 ->
                for x in a do values.Add x
                [ for d in 0 .. a.Rank - 1 -> int64 (a.GetLength d) ]
            | :? IEnumerable as items ->
                let shapes = [ for i, item in Seq.indexed (Seq.cast<obj> items) -> walk $"{path}[{i}]" item ]
                match shapes with
                | [] -> [ 0L ]
                | first :: _ ->
                    match shapes |> List.tryFindIndex ((<>) first) with
                    | Some i ->
                        invalidArg "values" $"tensor: the rows are ragged: {path}[0] has shape {first} but {path}[{i}] has {shapes.[i]}; every row must have the same length."
                    | None -> int64 shapes.Length :: first
            | scalar -> values.Add scalar; []
        let shape = walk "values" value
        shape, values

    /// A tensor from values walked one by one: their shape and kind found as they come.
    let private ofNested (values: obj) : Tensor =
        let shape, flat = shapeAndValues values
        let dims = Array.ofList shape
        let kind = if flat.Count = 0 then typeof<float32> else flat.[0].GetType()
        match flat |> Seq.tryFind (fun v -> v.GetType() <> kind) with
        | Some other -> invalidArg "values" $"tensor: the values mix {kind.Name} and {other.GetType().Name}; give one kind of number."
        | None -> ()
        let all (f: obj -> 'T) = [| for v in flat -> f v |]
        let made =
            if kind = typeof<float> then torch.tensor(all (fun v -> float32 (unbox<float> v)))
            elif kind = typeof<float32> then torch.tensor(all unbox<float32>)
            elif kind = typeof<int> then torch.tensor(all (fun v -> int64 (unbox<int> v)))
            elif kind = typeof<int64> then torch.tensor(all unbox<int64>)
            elif kind = typeof<byte> then torch.tensor(all unbox<byte>)
            elif kind = typeof<bool> then torch.tensor(all unbox<bool>)
            else invalidArg "values" $"tensor: {kind.Name} values cannot make a tensor; give float, float32, int, int64, byte or bool values."
        made.reshape(dims)

    /// A tensor from a number or nested F# lists, arrays or sequences, its shape inferred:
    /// `tensor [[1.; 2.]; [3.; 4.]]` is 2×2, `tensor [1 .. 5]` is [5] (int64), `tensor 3.0` has no dimensions.
    let tensor (values: obj) : Tensor =
        match values with
        // Arrays of floats go straight to libtorch, without a value-by-value walk.
        | :? (float[]) as a -> torch.tensor(Array.map float32 a)
        | :? (float32[]) as a -> torch.tensor(Array.copy a)
        | :? (float[,]) as a -> torch.tensor(Array2D.map float32 a)
        | :? (float32[,]) as a -> torch.tensor(Array2D.copy a)
        | other -> ofNested other

    let private dims (shape: int list) : int64[] =
        match shape |> List.tryFind (fun d -> d < 0) with
        | Some d -> invalidArg "shape" $"the shape {shape} has a negative size {d}; sizes are 0 or more."
        | None -> shape |> List.map int64 |> Array.ofList

    /// A float32 tensor of zeros, e.g. `zeros [2; 3]`.
    let zeros (shape: int list) : Tensor = torch.zeros(dims shape)
    /// A float32 tensor of ones.
    let ones (shape: int list) : Tensor = torch.ones(dims shape)
    /// Uniform random values in [0, 1) (from libtorch's seeded generator: Seed.set).
    let rand (shape: int list) : Tensor = torch.rand(dims shape)
    /// Standard normal random values (from libtorch's seeded generator: Seed.set).
    let randn (shape: int list) : Tensor = torch.randn(dims shape)
    /// Random integers in [0, high) as int64 (e.g. class labels), from libtorch's seeded generator.
    let randint (high: int) (shape: int list) : Tensor = torch.randint(int64 high, dims shape)
    /// `n` evenly spaced float32 values from `first` to `last`, both included.
    let linspace (first: float) (last: float) (n: int) : Tensor = torch.linspace(first, last, int64 n)

    /// The value of a scalar function f and its gradient at x: `valueAndGrad (fun w -> (w ** 2.0).sum()) x`.
    /// x is not changed and needs no `requires_grad`; both results are free of the autograd graph.
    let valueAndGrad (f: Tensor -> Tensor) (x: Tensor) : Tensor * Tensor =
        if not (torch.is_floating_point x) then
            invalidArg "x" $"grad: x holds {x.dtype} values, which have no gradient; make it from floats (tensor [1.; 2.])."
        use _ = torch.enable_grad()
        use at = x.detach().requires_grad_(true)
        let y = f at
        if y.numel() <> 1L then
            invalidArg "f" $"grad: f gave a tensor of shape {List.ofArray y.shape}, not one number; reduce it first (Tensor.sum or Tensor.mean)."
        let g = torch.autograd.grad([| y |], [| at |]).[0]
        y.detach(), g

    /// The gradient of a scalar function f at x: `grad (fun w -> 10.0 * (w ** 2.0).sum()) (tensor [8.; 8.])` is [160; 160].
    let grad (f: Tensor -> Tensor) (x: Tensor) : Tensor = valueAndGrad f x |> snd

/// F# slicing of tensors with ranges (both ends included, as F# ranges are): `t.[1..2]`, `t.[0..1, *]`,
/// `t.[0, 1..]`, up to four dimensions. The slices share the tensor's memory, as PyTorch's do.
[<AutoOpen>]
module TensorSlicing =
    let private narrow (dim: int) (start: int option) (finish: int option) (t: Tensor) : Tensor =
        if int64 dim >= t.Dimensions then
            invalidArg "range" $"the tensor has {t.Dimensions} dimension(s) (shape {List.ofArray t.shape}); a slice over dimension {dim} does not exist."
        let size = int t.shape.[dim]
        let first, last = defaultArg start 0, defaultArg finish (size - 1)
        if first < 0 || first > size || last >= size || last < first - 1 then
            invalidArg "range" $"[{first}..{last}] is outside dimension {dim} of a tensor of shape {List.ofArray t.shape} (indices 0..{size - 1})."
        t.narrow(int64 dim, int64 first, int64 (last - first + 1))

    let private index (dim: int) (i: int) (t: Tensor) : Tensor =
        let size = if int64 dim < t.Dimensions then int t.shape.[dim] else 0
        if i < 0 || i >= size then
            invalidArg "index" $"index {i} is outside dimension {dim} of a tensor of shape {List.ofArray t.shape} (indices 0..{size - 1})."
        t.select(int64 dim, int64 i)

    type torch.Tensor with
        member t.GetSlice(s0: int option, e0: int option) = t |> narrow 0 s0 e0
        member t.GetSlice(s0: int option, e0: int option, s1: int option, e1: int option) = t |> narrow 0 s0 e0 |> narrow 1 s1 e1
        member t.GetSlice(i0: int, s1: int option, e1: int option) = t |> narrow 1 s1 e1 |> index 0 i0
        member t.GetSlice(s0: int option, e0: int option, i1: int) = t |> index 1 i1 |> narrow 0 s0 e0
        member t.GetSlice(s0: int option, e0: int option, s1: int option, e1: int option, s2: int option, e2: int option) =
            t |> narrow 0 s0 e0 |> narrow 1 s1 e1 |> narrow 2 s2 e2
        member t.GetSlice(s0: int option, e0: int option, s1: int option, e1: int option, s2: int option, e2: int option, s3: int option, e3: int option) =
            t |> narrow 0 s0 e0 |> narrow 1 s1 e1 |> narrow 2 s2 e2 |> narrow 3 s3 e3
