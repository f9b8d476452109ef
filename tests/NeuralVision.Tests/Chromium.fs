/// Debian's Chromium for the tests that look at pages as a user does: installed (apt-get, as root) when missing.
module NeuralVision.Tests.Chromium

open System.IO
open Expecto

let private path = "/usr/bin/chromium"

/// The path of the chromium program, installing Debian's package first when it is missing.
let ensure () : string =
    if not (File.Exists path) then
        let install () = Repo.runProgram "apt-get" [ "install"; "-y"; "-q"; "--no-install-recommends"; "chromium" ] [ "DEBIAN_FRONTEND", "noninteractive" ] 15.0
        let code, _, err = install ()
        if code <> 0 then
            // A fresh machine may have no package lists yet.
            Repo.runProgram "apt-get" [ "update"; "-q" ] [ "DEBIAN_FRONTEND", "noninteractive" ] 10.0 |> ignore
            let code, _, err2 = install ()
            if code <> 0 then failtest $"Debian's chromium is needed to look at report.html and could not be installed (apt-get as root): {err}\n{err2}"
    path
