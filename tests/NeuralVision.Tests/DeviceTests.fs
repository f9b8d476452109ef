module NeuralVision.Tests.DeviceTests

open System
open Expecto
open TorchSharp
open NeuralVision.Tensors

let tests =
    testList "device choice" [
        test "CPU by default without CUDA, CUDA by default with it" {
            Expect.equal (Devices.Choose(null, false)) DeviceType.CPU "no CUDA"
            Expect.equal (Devices.Choose("", true)) DeviceType.CUDA "CUDA present"
        }
        test "NV_DEVICE=cpu wins over an available GPU" {
            Expect.equal (Devices.Choose("cpu", true)) DeviceType.CPU "override"
            Expect.equal (Devices.Choose(" CPU ", true)) DeviceType.CPU "case and spaces"
        }
        test "the error for CUDA without CUDA says what to do" {
            try
                Devices.Choose("cuda", false) |> ignore
                failtest "should have thrown"
            with :? ArgumentException as e ->
                Expect.stringContains e.Message "NV_DEVICE=cuda" "names the setting"
                Expect.stringContains e.Message "set it to cpu" "says what to do"
        }
        test "ranks on one machine take its GPUs in turn; a process that is not a rank takes GPU 0" {
            Expect.equal [ for rank in 0 .. 4 -> Devices.GpuOfRank(Nullable rank, 2) ] [ 0; 1; 0; 1; 0 ] "two GPUs, five ranks"
            Expect.equal (Devices.GpuOfRank(Nullable(), 4)) 0 "not under mpirun"
            Expect.equal (Devices.GpuOfRank(Nullable 3, 0)) 0 "no GPU reported"
        }
        test "an unknown device name is refused" {
            Expect.throwsT<ArgumentException> (fun () -> Devices.Choose("tpu", true) |> ignore) "tpu is not a device"
        }
        test "this machine's default is a working device" {
            let device = NeuralVision.Device.current ()
            use t = torch.ones([| 3L |], device = device)
            Expect.equal (t.sum().item<float32>()) 3.f "computes on the chosen device"
        }
    ]
