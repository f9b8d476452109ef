/// Debian's Chromium for the tests that look at pages as a user does: installed (apt-get, as root) when missing.
module NeuralVision.Tests.Chromium

open System.IO
open Expecto

let private path = "/usr/bin/chromium"

/// The path of the chromium program, installing Debian's package first when it is missing.
let ensure () : string =
    if not (File.Exists path) then
        try NeuralVision.Native.DebianPackages.Install([ "chromium" ], "looking at report.html in a browser")
        with :? NeuralVision.Native.NativeLibraryException as e -> failtest e.Message
    path
