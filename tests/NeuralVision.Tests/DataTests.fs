module NeuralVision.Tests.DataTests

open System
open System.IO
open System.IO.Compression
open Expecto
open NeuralVision.Data
open NeuralVision.Tests.Files

let private idxHeader (dims: int list) =
    [| 0uy; 0uy; 8uy; byte dims.Length
       for d in dims do yield! [| byte (d >>> 24); byte (d >>> 16); byte (d >>> 8); byte d |] |]

let idxTests =
    testList "IDX reader" [
        test "a small file written here reads back, plain and gzipped" {
            inTempDir (fun dir ->
                let bytes = Array.append (idxHeader [ 2; 3 ]) [| 1uy .. 6uy |]
                let plain = Path.Combine(dir, "a.idx")
                File.WriteAllBytes(plain, bytes)
                let zipped = Path.Combine(dir, "a.idx.gz")
                do
                    use out = new GZipStream(File.Create zipped, CompressionLevel.Optimal)
                    out.Write(bytes, 0, bytes.Length)
                for path in [ plain; zipped ] do
                    let a = Idx.Read path
                    Expect.equal a.Shape [| 2; 3 |] "shape"
                    Expect.equal a.Values [| 1uy .. 6uy |] "values")
        }
        test "a missing file names the file" {
            let m = dataError (fun () -> Idx.Read "/nonexistent/train-images-idx3-ubyte.gz")
            Expect.stringContains m "/nonexistent/train-images-idx3-ubyte.gz" "names it"
            Expect.stringContains m "not found" "says what is wrong"
        }
        test "a wrong magic number is reported at offset 0" {
            let m = dataError (fun () -> Idx.Parse([| 1uy; 2uy; 8uy; 1uy; 0uy; 0uy; 0uy; 0uy |], "x.idx"))
            Expect.stringContains m "magic number at offset 0" "position"
        }
        test "a truncated file says how much is missing" {
            let bytes = Array.append (idxHeader [ 10; 4 ]) (Array.zeroCreate 39)
            let m = dataError (fun () -> Idx.Parse(bytes, "t.idx"))
            Expect.stringContains m "promises 40 values" "what the header says"
            Expect.stringContains m "holds 39" "what is there"
            Expect.stringContains m "truncated" "the diagnosis"
        }
        test "a damaged gzip stream is one clear error" {
            inTempDir (fun dir ->
                let path = Path.Combine(dir, "bad.gz")
                File.WriteAllBytes(path, [| 0x1fuy; 0x8buy; 8uy; 0uy; 1uy; 2uy; 3uy |])
                let m = dataError (fun () -> Idx.Read path)
                Expect.stringContains m "gzip" "names the layer that failed"
                Expect.stringContains m path "and the file")
        }
        test "a gzip file cut short is refused, not read as fewer images" {
            inTempDir (fun dir ->
                let bytes = Array.append (idxHeader [ 100; 28 ]) (Array.init 2800 byte)
                let full = Path.Combine(dir, "full.gz")
                do
                    use out = new GZipStream(File.Create full, CompressionLevel.Optimal)
                    out.Write(bytes, 0, bytes.Length)
                let zipped = File.ReadAllBytes full
                let cut = Path.Combine(dir, "cut.gz")
                File.WriteAllBytes(cut, zipped.[.. zipped.Length * 2 / 3])
                let m = dataError (fun () -> Idx.Read cut)
                Expect.stringContains m "truncated" "the diagnosis"
                Expect.stringContains m cut "the file")
        }
        test "a damaged trailer promising gigabytes reserves no more than deflate can expand" {
            // The trailer sizes the output array; a fuzzed trailer once reserved up to 2 GiB per file read.
            let zipped = gz (Array.append (idxHeader [ 4 ]) [| 1uy; 2uy; 3uy; 4uy |])
            BitConverter.GetBytes(0xF0000000u).CopyTo(zipped, zipped.Length - 4)
            let before = GC.GetAllocatedBytesForCurrentThread()
            let m = dataError (fun () -> Idx.Ungzip(zipped, "t.idx.gz"))
            let allocated = GC.GetAllocatedBytesForCurrentThread() - before
            Expect.isLessThan allocated (int64 zipped.Length * 1032L + 1_000_000L) "bytes allocated for a file this small"
            Expect.stringContains m "gzip stream is damaged" "the diagnosis"
        }
        test "images and labels of different counts are refused" {
            inTempDir (fun dir ->
                let images = Path.Combine(dir, "i.idx")
                let labels = Path.Combine(dir, "l.idx")
                File.WriteAllBytes(images, Array.append (idxHeader [ 3; 2; 2 ]) (Array.zeroCreate 12))
                File.WriteAllBytes(labels, Array.append (idxHeader [ 2 ]) [| 0uy; 1uy |])
                let m = dataError (fun () -> ImageSet.FromIdx(images, labels, FashionMnist.Classes))
                Expect.stringContains m "3 images" "the image count"
                Expect.stringContains m "2 labels" "the label count")
        }
    ]

let fashionMnistTests =
    testList "Fashion-MNIST (real data)" [
        test "60,000 training and 10,000 test images of 28×28, 10 balanced classes" {
            let data = FashionMnist.Load()
            Expect.equal (data.Train.Count, data.Test.Count) (60000, 10000) "counts"
            Expect.equal (data.Train.Height, data.Train.Width, data.Train.Channels) (28, 28, 1) "geometry"
            let counts = data.Train.Labels |> Array.countBy id |> Array.sortBy fst
            Expect.equal counts [| for c in 0uy .. 9uy -> c, 6000 |] "6,000 per class in training"
            let mean = data.Train.Pixels |> Array.averageBy float
            // Fashion-MNIST's published pixel mean is 0.2860 of 255.
            Expect.floatClose Accuracy.low (mean / 255.0) 0.2860 "pixel mean"
        }
        test "tensors are float [N,1,28,28] in 0..1 and int64 labels" {
            let data = FashionMnist.Load()
            let struct (images, labels) = data.Test.Take(100).ToTensors()
            use images = images
            use labels = labels
            Expect.equal (List.ofArray images.shape) [ 100L; 1L; 28L; 28L ] "shape"
            Expect.isTrue (images.min().item<float32>() >= 0.f && images.max().item<float32>() <= 1.f) "range"
            Expect.equal labels.dtype TorchSharp.torch.int64 "labels"
        }
        test "the pinned checksums match the files in use" {
            let dir = Provisioning.Ensure FashionMnist.Spec
            for f in FashionMnist.Spec.Files do
                Expect.equal (Provisioning.ContentSha256(Path.Combine(dir, f.Name))) f.ContentSha256 f.Name
        }
        test "a file that does not match its checksum is not used" {
            inTempDir (fun dir ->
                let path = Path.Combine(dir, "x.gz")
                File.WriteAllBytes(path, [| 1uy; 2uy; 3uy |])
                Expect.isFalse (Provisioning.Verify(path, DataFile("x.gz", FashionMnist.Spec.Files.[0].ContentSha256))) "rejected")
        }
    ]

let tests = testList "data" [ idxTests; fashionMnistTests ]
