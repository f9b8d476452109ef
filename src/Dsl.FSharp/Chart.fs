/// Pictures from F#: curves, image grids, decision regions, scatter plots and contours of F# functions, each
/// written as a PNG. Series are (name, xs, ys) triples; points are F# tuples; functions are F# functions.
namespace NeuralVision

open NeuralVision.Plot

/// PNG pictures: `Chart.lines("out/loss.png", "Loss", "epoch", "loss", [ "train", xs, ys ])`.
[<AbstractClass; Sealed>]
type Chart =
    /// One line per (name, xs, ys) series; `markers` draws the points, `logY` a logarithmic y axis.
    static member lines(path: string, title: string, xLabel: string, yLabel: string, series: (string * float[] * float[]) list,
                        ?markers: bool, ?logY: bool) : unit =
        Charts.Lines(path, title, xLabel, yLabel, [| for name, xs, ys in series -> Series(name, xs, ys) |],
                     logY = defaultArg logY false, markers = defaultArg markers false)

    /// The series of one figure of a run against the epoch: `Chart.epochs "Adam" "accuracy" run`.
    static member epochs(name: string, figure: string, run: EpochResult seq) : string * float[] * float[] =
        let results = Array.ofSeq run
        name, [| for r in results -> float r.Epoch |], [| for r in results -> r.[figure] |]

    /// The moving average of `values` over `window` points (the first points over as many as there are).
    static member movingAverage(window: int, values: float seq) : float[] = Curves.MovingAverage(Array.ofSeq values, window)

    /// Images [N; C; H; W] with values in 0..1, in rows of `columns`, each with its caption; `boxes` are
    /// ([N; 4] boxes, colour) pairs drawn on the images.
    static member images(path: string, images: Tensor, captions: string list, ?columns: int, ?boxes: (Tensor * string) list) : unit =
        let boxes = boxes |> Option.map (fun bs -> [| for b, colour in bs -> struct (b, colour) |]) |> Option.toObj
        ImageGrid.Samples(path, images, Array.ofList captions, columns = defaultArg columns 8, boxes = boxes)

    /// Points (x, y, class) over the regions `classify` gives: it maps grid points [n; 2] to their classes.
    static member regions(path: string, title: string, xLabel: string, yLabel: string, classify: float[,] -> int[],
                          points: (float * float * int) list) : unit =
        Charts.Regions(path, title, xLabel, yLabel, System.Func<_, _> classify, [| for x, y, c in points -> struct (x, y, c) |])

    /// Points (x, y, class) coloured by class, with a legend of `classes`.
    static member scatter(path: string, title: string, points: (float * float * int) list, classes: string seq) : unit =
        Charts.Scatter(path, title, [| for x, y, c in points -> struct (x, y, c) |], Array.ofSeq classes)

    /// Contours of f over the box (x0, x1) × (y0, y1), with (name, path) optimisation paths drawn on them and, when
    /// given, the minimum marked; a path that diverges or leaves the box says so in the legend.
    static member contours(path: string, title: string, f: float -> float -> float, (x0: float, x1: float), (y0: float, y1: float),
                           paths: (string * float[][]) list, ?minimum: float * float) : unit =
        let minimum = minimum |> Option.map (fun (x, y) -> struct (x, y)) |> Option.toNullable
        Charts.Contours(path, title, System.Func<_, _, _> f, x0, x1, y0, y1, [| for name, p in paths -> struct (name, p) |], minimum, 160)
