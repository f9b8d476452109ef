/// Helpers for tests that write files: temporary folders, gzip, and the message of a DataException.
module NeuralVision.Tests.Files

open System.IO
open System.IO.Compression
open Expecto
open NeuralVision.Data

/// Runs `f` with a new temporary folder, deleted afterwards; returns what `f` returns.
let inTempDir (f: string -> 'a) : 'a =
    let dir = Directory.CreateTempSubdirectory("nv-test-").FullName
    try f dir finally Directory.Delete(dir, true)

/// The gzip compression of some bytes.
let gz (bytes: byte[]) =
    use out = new MemoryStream()
    do
        use z = new GZipStream(out, CompressionLevel.Optimal, leaveOpen = true)
        z.Write(bytes, 0, bytes.Length)
    out.ToArray()

/// The message of the DataException `f` must throw.
let dataError (f: unit -> 'a) =
    try
        f () |> ignore
        failtest "expected a DataException"
    with :? DataException as e -> e.Message
