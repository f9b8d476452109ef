/// `nv train`, `nv predict` and `nv evaluate` end to end on real pictures written as PNG files: the run folder, resume,
/// TensorBoard records read back, report.html in headless Chromium, damaged files, bad input, and a two-class
/// plates-like task on which the pretrained ResNet-18 beats the same network from scratch.
module NeuralVision.Tests.RunTests

open System
open System.IO
open Expecto
open NeuralVision
open NeuralVision.Data

let nv (args: string list) (minutes: float) =
    let dll = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")
    Repo.runProgram "dotnet" (dll :: args) [] minutes

let work = lazy (Directory.CreateTempSubdirectory("nv-runs-").FullName)

/// 1,000 training and 300 test Fashion-MNIST items as DIR/CLASS/NNNNN.png (shared with DistributedTests).
let fashionTree =
    lazy (
        let root = Path.Combine(work.Value, "fashion")
        let sets = FashionMnist.Load()
        ImageFolder.Save(sets.Train.Take 1000, Path.Combine(root, "train"))
        ImageFolder.Save(sets.Test.Take 300, Path.Combine(root, "test"))
        root)

let lenetArgs (data: string) (out: string) (epochs: int) =
    [ "train"; "--data"; data; "--arch"; "lenet"; "--epochs"; string epochs; "--out"; out ]

/// A LeNet run of two epochs on the Fashion tree, trained once and shared by the tests that read it.
let private fashionRun =
    lazy (
        let out = Path.Combine(work.Value, "runs", "fashion")
        let code, stdout, err = nv (lenetArgs (Path.Combine(fashionTree.Value, "train")) out 2) 10.0
        if code <> 0 then failtest $"nv train failed:\n{stdout}\n{err}"
        out, stdout)

let metrics (dir: string) = File.ReadAllLines(Path.Combine(dir, "metrics.csv"))

/// The (step, tag, value, has image) records of a TensorBoard event file.
let private events (path: string) =
    let bytes = File.ReadAllBytes path
    let rec read at acc =
        if at >= bytes.Length then List.rev acc
        else
            let length = int (BitConverter.ToUInt64(bytes, at))
            let e = Tensorboard.Event.Parser.ParseFrom(bytes, at + 12, length)
            let records = if isNull e.Summary then [] else [ for v in e.Summary.Value -> int e.Step, v.Tag, float v.SimpleValue, not (isNull v.Image) ]
            read (at + 12 + length + 4) (List.rev records @ acc)
    read 0 []

let private flipBytes (path: string) =
    let bytes = File.ReadAllBytes path
    let middle = bytes.Length / 2
    for i in 0 .. 2 do bytes.[middle + i] <- bytes.[middle + i] ^^^ 0xFFuy
    File.WriteAllBytes(path, bytes)

let private copyRun (from: string) (name: string) =
    let target = Path.Combine(work.Value, "runs", name)
    Directory.CreateDirectory target |> ignore
    for f in Directory.GetFiles from do File.Copy(f, Path.Combine(target, Path.GetFileName f), true)
    target

/// A tiny two-class tree (50 images each) for the bad-input cases, in a fresh folder.
let private twoClassTree (name: string) =
    let root = Path.Combine(work.Value, name)
    let set = FashionMnist.Load().Train.Take 400
    let keep = [| for i in 0 .. set.Count - 1 do if set.Labels.[i] <= 1uy then yield i |] |> Array.truncate 100
    let size = set.Channels * set.Height * set.Width
    let pixels = [| for i in keep do yield! set.Pixels.[i * size .. (i + 1) * size - 1] |]
    ImageFolder.Save(ImageSet(pixels, keep.Length, set.Channels, set.Height, set.Width, [| for i in keep -> set.Labels.[i] |], [| "tops"; "trousers" |]), root)
    root

/// A plates-like task cut from real photos: 64×64 crops of scikit-learn's two photos, "clean", or with a
/// Fashion-MNIST item blended in as a brown stain, "dirty" (its size, place and strength random).
let private platesTree =
    lazy (
        let root = Path.Combine(work.Value, "plates")
        Seed.set 5
        let random = Random 5
        let photos = [| for name in [ "china.jpg"; "flower.jpg" ] -> Image.load (Sklearn.Photo name) |]
        let items = (FashionMnist.Load().Train.Take 200 |> Dataset.ofImages).Inputs
        let crop () =
            let photo = photos.[random.Next 2]
            let height, width = (Tensor.shape photo).[1], (Tensor.shape photo).[2]
            let y, x = random.Next(height - 128), random.Next(width - 128)
            photo.[*, y .. y + 127, x .. x + 127] |> Tensor.reshape [ 1; 3; 128; 128 ] |> Tensor.resize 64 64 Bilinear
        let stain () =
            let size = 20 + random.Next 16
            let i = random.Next 200
            let item = items.[i..i, *, *, *] |> Tensor.resize size size Bilinear
            let y, x = random.Next(64 - size), random.Next(64 - size)
            let mask = TorchSharp.torch.nn.functional.pad(item, [| int64 x; int64 (64 - size - x); int64 y; int64 (64 - size - y) |])
            mask * (0.35 + 0.3 * random.NextDouble())
        let brown = tensor [ 0.35; 0.22; 0.1 ] |> Tensor.reshape [ 1; 3; 1; 1 ]
        let perClass = 60
        let clean = [ for _ in 1 .. perClass -> crop () ]
        let dirty = [ for _ in 1 .. perClass -> let plate, mask = crop (), stain () in plate * (1.0 - mask) + brown * mask ]
        let images = Tensor.cat (clean @ dirty)
        let bytes = (Tensor.clamp 0.0 1.0 images * 255.0).round().to_type(TorchSharp.torch.uint8).data<byte>().ToArray()
        let labels = Array.init (2 * perClass) (fun i -> if i < perClass then 0uy else 1uy)
        ImageFolder.Save(ImageSet(bytes, 2 * perClass, 3, 64, 64, labels, [| "clean"; "dirty" |]), root)
        root)

let private finalAccuracy (dir: string) =
    Double.Parse(((metrics dir |> Array.last).Split ',').[3], Globalization.CultureInfo.InvariantCulture)

let tests =
    testSequenced (testList "nv train, predict and evaluate" [
        test "nv train on a Fashion-MNIST PNG tree leaves a complete run folder and learns" {
            let dir, out = fashionRun.Value
            for file in [ "model.nvw"; "settings.json"; "metrics.csv"; "report.html"; "model.onnx"; "state.nvck" ] do
                Expect.isTrue (File.Exists(Path.Combine(dir, file))) $"{file} is in the run folder"
            Expect.isNonEmpty (Directory.GetFiles(Path.Combine(dir, "tensorboard"), "events.out.tfevents.*")) "a TensorBoard event file"
            let rows = metrics dir
            Expect.equal rows.Length 3 "a header and one row per epoch"
            let accuracy = Double.Parse((rows.[2].Split ',').[3], Globalization.CultureInfo.InvariantCulture)
            Expect.isGreaterThan accuracy 0.5 $"validation accuracy after two epochs {accuracy} (chance 0.1)"
            Expect.stringContains out "confusion matrix" "prints the outcome"
        }
        test "a run resumed after epoch 1 ends with the same figures as the run trained straight through" {
            let straight, _ = fashionRun.Value
            let dir = Path.Combine(work.Value, "runs", "resumed")
            let data = Path.Combine(fashionTree.Value, "train")
            let code1, _, err1 = nv (lenetArgs data dir 1) 10.0
            Expect.equal code1 0 err1
            let code2, out2, err2 = nv [ "train"; "--out"; dir; "--resume"; "--epochs"; "2" ] 10.0
            Expect.equal code2 0 err2
            Expect.stringContains out2 "resuming" "says it resumes"
            let figures (line: string) = line.Split ',' |> Array.take 5     // epoch, train_loss, val_loss, accuracy, lr (not seconds)
            Expect.equal (metrics dir |> Array.map figures) (metrics straight |> Array.map figures) "the same figures, epoch by epoch"
        }
        test "a run killed (SIGKILL) in its second epoch resumes from its last checkpoint to the figures of an uninterrupted run" {
            let straight, _ = fashionRun.Value
            let dir = Path.Combine(work.Value, "runs", "killed")
            let dll = Path.Combine(Repo.root.Value, "src", "Cli", "bin", Repo.configuration, "net10.0", "nv.dll")
            let info = Diagnostics.ProcessStartInfo("dotnet", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
            for a in dll :: lenetArgs (Path.Combine(fashionTree.Value, "train")) dir 3 do info.ArgumentList.Add a
            use p = Diagnostics.Process.Start info
            p.OutputDataReceived.Add ignore
            p.ErrorDataReceived.Add ignore
            p.BeginOutputReadLine()
            p.BeginErrorReadLine()
            // Wait for epoch 1's checkpoint and metrics row, then kill the run mid-way through epoch 2.
            let clock = Diagnostics.Stopwatch.StartNew()
            // (metrics.csv gets the epoch's row just before state.nvck gets its checkpoint: wait for both.)
            let epochOneDone () = File.Exists(Path.Combine(dir, "state.nvck")) && File.Exists(Path.Combine(dir, "metrics.csv")) && (metrics dir).Length >= 2
            while not (epochOneDone ()) && not p.HasExited && clock.Elapsed < TimeSpan.FromMinutes 5.0 do Threading.Thread.Sleep 50
            Expect.isFalse p.HasExited "the run was still going after epoch 1"
            p.Kill()
            p.WaitForExit()
            let code, out, err = nv [ "train"; "--out"; dir; "--resume" ] 10.0
            Expect.equal code 0 $"{out}\n{err}"
            let figures (line: string) = line.Split ',' |> Array.take 5
            let rows = metrics dir
            Expect.equal rows.Length 4 "three epochs after the resume"
            Expect.equal (rows |> Array.take 3 |> Array.map figures) (metrics straight |> Array.map figures) "epochs 1 and 2 as in the uninterrupted run"
        }
        test "--resume refuses an option that disagrees with the run's settings, naming it" {
            let dir, _ = fashionRun.Value
            let code, _, err = nv [ "train"; "--out"; dir; "--resume"; "--lr"; "0.01" ] 2.0
            Expect.equal code 2 "a usage error"
            Expect.stringContains err "--lr 0.01 disagrees" "names the option"
        }
        test "nv predict prints each image's top classes with probabilities; a missing image is named" {
            let dir, _ = fashionRun.Value
            let bag = Directory.GetFiles(Path.Combine(fashionTree.Value, "test", "Bag")) |> Array.head
            let code, out, _ = nv [ "predict"; "--model"; dir; bag ] 2.0
            Expect.equal code 0 "predicts"
            Expect.isMatch (out.Trim()) @".*\.png: [A-Za-z -]+ \d+\.\d %, [A-Za-z -]+ \d+\.\d %, [A-Za-z -]+ \d+\.\d %" "three classes with probabilities"
            let missing, _, err = nv [ "predict"; "--model"; dir; Path.Combine(work.Value, "no-such.png") ] 2.0
            Expect.equal missing 1 "fails"
            Expect.stringContains err "no such file" "says why"
        }
        test "nv evaluate prints accuracy, per-class precision and recall and the confusion matrix, and writes them" {
            let dir, _ = fashionRun.Value
            let code, out, err = nv [ "evaluate"; "--model"; dir; "--data"; Path.Combine(fashionTree.Value, "test") ] 5.0
            Expect.equal code 0 err
            for part in [ "accuracy:"; "precision  recall"; "confusion matrix"; "Ankle boot" ] do Expect.stringContains out part $"shows {part}"
            Expect.stringContains (File.ReadAllText(Path.Combine(dir, "evaluation.txt"))) "confusion matrix" "written to the run folder"
        }
        test "the TensorBoard event file holds the epoch figures as scalars and the validation predictions as an image" {
            let dir, _ = fashionRun.Value
            let records = events (Directory.GetFiles(Path.Combine(dir, "tensorboard")) |> Array.exactlyOne)
            let rows = metrics dir |> Array.tail
            for row in rows do
                let cells = row.Split ','
                let epoch, accuracy = int cells.[0], Double.Parse(cells.[3], Globalization.CultureInfo.InvariantCulture)
                let logged = records |> List.tryPick (fun (s, tag, v, _) -> if s = epoch && tag = "epoch/accuracy" then Some v else None)
                Expect.equal logged (Some (float (float32 accuracy))) $"epoch {epoch}: accuracy logged as in metrics.csv"
            Expect.isTrue (records |> List.exists (fun (_, tag, _, image) -> tag = "validation predictions" && image)) "the image record"
        }
        test "report.html renders in headless Chromium: every picture loads and the page is not blank" {
            let dir, _ = fashionRun.Value
            let chromium = Chromium.ensure ()
            let page = "file://" + Path.Combine(dir, "report.html")
            let code, dom, err = Repo.runProgram chromium [ "--headless"; "--no-sandbox"; "--disable-gpu"; "--virtual-time-budget=5000"; "--dump-dom"; page ] [] 2.0
            Expect.equal code 0 err
            let loaded = Text.RegularExpressions.Regex.Match(dom, "data-images=\"(\\d+)/(\\d+)\"")
            Expect.isTrue loaded.Success "the page's script ran and counted its pictures"
            Expect.equal loaded.Groups.[1].Value loaded.Groups.[2].Value "every picture decoded"
            Expect.isGreaterThanOrEqual (int loaded.Groups.[2].Value) 4 "curves, confusion matrix and worst images"
            let shot = Path.Combine(work.Value, "report.png")
            let code, _, err = Repo.runProgram chromium [ "--headless"; "--no-sandbox"; "--disable-gpu"; "--hide-scrollbars"; "--window-size=1200,2400"; $"--screenshot={shot}"; page ] [] 2.0
            Expect.equal code 0 err
            use bitmap = SkiaSharp.SKBitmap.Decode shot
            let pixels = [| for y in 0 .. 8 .. bitmap.Height - 1 do for x in 0 .. 8 .. bitmap.Width - 1 -> bitmap.GetPixel(x, y) |]
            let inked = pixels |> Array.filter (fun c -> int c.Red + int c.Green + int c.Blue < 600) |> Array.length
            let coloured = pixels |> Array.filter (fun c -> abs (int c.Blue - int c.Red) > 40) |> Array.length
            Expect.isGreaterThan (float inked / float pixels.Length) 0.05 "more than 5% of the page is drawn on"
            Expect.isGreaterThan coloured 100 "the figures' colours are there"
        }
        test "damaged weights, training state and settings are refused, naming the file; nothing half-loaded is left" {
            let dir, _ = fashionRun.Value
            let damaged = copyRun dir "damaged"
            flipBytes (Path.Combine(damaged, "model.nvw"))
            let bag = Directory.GetFiles(Path.Combine(fashionTree.Value, "test", "Bag")) |> Array.head
            let code, _, err = nv [ "predict"; "--model"; damaged; bag ] 2.0
            Expect.equal code 1 "refused"
            Expect.stringContains err "model.nvw is damaged" "names the file"
            flipBytes (Path.Combine(damaged, "state.nvck"))
            let code, _, err = nv [ "train"; "--out"; damaged; "--resume"; "--epochs"; "3" ] 2.0
            Expect.equal code 1 "refused"
            Expect.stringContains err "state.nvck is damaged" "names the file"
            let settings = Path.Combine(damaged, "settings.json")
            File.WriteAllText(settings, File.ReadAllText(settings).Replace("\"Lr\": 0.001", "\"Lr\": 0.002"))
            let code, _, err = nv [ "predict"; "--model"; damaged; bag ] 2.0
            Expect.equal code 1 "refused"
            Expect.stringContains err "settings.json is damaged" "names the file"
            // In a library call: the model keeps the weights it had.
            let model = Model.build [ 3; 28; 28 ] (Architectures.lenet 10)
            let before = [ for p in model.Parameters -> Tensor.values p.Value ]
            let e = Expect.throwsC (fun () -> Checkpoint.loadWeights (Path.Combine(damaged, "model.nvw")) model) id
            Expect.isTrue (e :? DamagedFileException) $"a DamagedFileException, got {e.GetType().Name}"
            Expect.equal [ for p in model.Parameters -> Tensor.values p.Value ] before "the model's weights are untouched"
        }
        test "weights of another architecture are refused and the model's own weights are put back" {
            let dir, _ = fashionRun.Value
            let other = Model.build [ 3; 28; 28 ] (flatten --> linear 10)
            Checkpoint.saveWeights (Path.Combine(work.Value, "other.nvw")) other
            let lenet = Model.build [ 3; 28; 28 ] (Architectures.lenet 10)
            let before = [ for p in lenet.Parameters -> Tensor.values p.Value ]
            Expect.throwsC (fun () -> Checkpoint.loadWeights (Path.Combine(work.Value, "other.nvw")) lenet) ignore
            Expect.equal [ for p in lenet.Parameters -> Tensor.values p.Value ] before "nothing half-loaded"
            Expect.isTrue (File.Exists(Path.Combine(dir, "model.nvw"))) "(the run itself is untouched)"
        }
        test "bad input gets one clear message: empty class, one class, no images, not a run; unreadable images are skipped and listed" {
            let root = twoClassTree "bad-input"
            let train (data: string) name = nv [ "train"; "--data"; data; "--arch"; "lenet"; "--epochs"; "1"; "--out"; Path.Combine(work.Value, "runs", name) ] 5.0
            // An unreadable image: skipped, listed with a count, and training goes on; two colour images of other
            // sizes (a JPEG and a PNG) are resized and join the grey 28×28 ones.
            File.WriteAllBytes(Path.Combine(root, "tops", "broken.png"), [| 137uy; 80uy; 78uy; 71uy; 0uy; 1uy; 2uy |])
            for name, format, width, height in [ "wide.jpg", SkiaSharp.SKEncodedImageFormat.Jpeg, 50, 37; "tall.png", SkiaSharp.SKEncodedImageFormat.Png, 31, 60 ] do
                use bitmap = new SkiaSharp.SKBitmap(width, height)
                bitmap.Erase(SkiaSharp.SKColor(200uy, 120uy, 40uy))
                use encoded = bitmap.Encode(format, 90)
                File.WriteAllBytes(Path.Combine(root, "trousers", name), encoded.ToArray())
            let code, out, err = train root "skips"
            Expect.equal code 0 err
            Expect.stringContains err "skipped 1 unreadable image(s)" "counted"
            Expect.stringContains err "broken.png" "listed"
            let counts = Text.RegularExpressions.Regex.Match(out, @"(\d+) training and (\d+) validation images")
            let readable = Directory.GetFiles(root, "*.*", SearchOption.AllDirectories).Length - 1
            Expect.equal (int counts.Groups.[1].Value + int counts.Groups.[2].Value) readable "the grey 28×28 images and the two colour ones, all but the broken one"
            File.Delete(Path.Combine(root, "trousers", "wide.jpg")); File.Delete(Path.Combine(root, "trousers", "tall.png"))
            // An empty class folder.
            Directory.CreateDirectory(Path.Combine(root, "empty")) |> ignore
            let code, _, err = train root "empty"
            Expect.equal code 1 "refused"
            Expect.stringContains err "the class 'empty' has no readable images" "names the class"
            Directory.Delete(Path.Combine(root, "empty"))
            // A single class.
            let single = Path.Combine(work.Value, "single")
            Directory.CreateDirectory(Path.Combine(single, "only")) |> ignore
            File.Copy(Directory.GetFiles(Path.Combine(root, "tops")) |> Array.find (fun f -> not (f.EndsWith "broken.png")), Path.Combine(single, "only", "a.png"))
            let code, _, err = train single "single"
            Expect.equal code 1 "refused"
            Expect.stringContains err "only one class" "says why"
            // No images at all.
            let none = Path.Combine(work.Value, "none")
            Directory.CreateDirectory(Path.Combine(none, "a")) |> ignore
            let code, _, err = train none "none"
            Expect.equal code 1 "refused"
            Expect.stringContains err "no .jpg or .png images" "says why"
            // A model folder that is not a run.
            let code, _, err = nv [ "predict"; "--model"; root; Path.Combine(root, "tops", "broken.png") ] 2.0
            Expect.equal code 1 "refused"
            Expect.stringContains err "is not a NeuralVision run" "says why"
        }
        test "on a plates-like task from real photos, the pretrained ResNet-18 beats the same network from scratch on the same budget" {
            let data = platesTree.Value
            let run name extra =
                let out = Path.Combine(work.Value, "runs", name)
                let code, stdout, err = nv ([ "train"; "--data"; data; "--epochs"; "3"; "--size"; "64"; "--out"; out ] @ extra) 15.0
                Expect.equal code 0 $"{stdout}\n{err}"
                finalAccuracy out
            let pretrained = run "plates-pretrained" [ "--pretrained" ]
            let scratch = run "plates-scratch" [ "--arch"; "resnet18" ]
            printfn "plates-like task, 3 epochs: pretrained %.4f, from scratch %.4f" pretrained scratch
            Expect.isGreaterThan pretrained scratch $"pretrained {pretrained} against scratch {scratch}"
        }
        test "a class target beyond the model's classes names the value and the class count" {
            let logits, targets = zeros [ 4; 10 ], tensor [ 1; 2; 13; 0 ]
            let e = Expect.throwsC (fun () -> crossEntropy.Compute(logits, targets) |> ignore) id
            Expect.stringContains e.Message "class 13" "the value"
            Expect.stringContains e.Message "10 classes (0..9)" "the class count"
        }
    ])
