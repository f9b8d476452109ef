using System.Runtime.InteropServices;

namespace NeuralVision.Native;

/// <summary>
/// Asks MKL (inside libtorch, behind every linear layer's matrix product) for results that do not change
/// from run to run: MKL_CBWR=AUTO, its "conditional numerical reproducibility" on the code path it would
/// choose anyway, so the figures are the ones MKL gives in its usual mode. (The rare cross-process difference
/// in the 8th digit of a loss that it was first set against came from elsewhere in MKL: see
/// <see cref="VectorMathWarmUp"/>.)
/// </summary>
/// <remarks>
/// MKL reads the variable from the C environment when it first runs, so it is set with the C library's
/// setenv before libtorch loads (.NET's Environment.SetEnvironmentVariable does not reach the C
/// environment). A value the user set is kept; NV_MKL=system leaves MKL in its default mode.
/// </remarks>
public static class ReproducibleMath
{
    const string Variable = "MKL_CBWR";
    const string Mode = "AUTO";

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr GetEnv(string name);

    /// <summary>Sets MKL_CBWR unless it is set; returns what MKL will use, e.g. "MKL_CBWR=AUTO".</summary>
    public static string Apply()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return "not set (not Linux)";
        if (Environment.GetEnvironmentVariable("NV_MKL") is "system") return "MKL's default mode (NV_MKL=system)";
        if (GetEnv(Variable) is var existing && existing != IntPtr.Zero) return $"{Variable}={Marshal.PtrToStringUTF8(existing)} (as set)";
        return SetEnv(Variable, Mode, 0) == 0 ? $"{Variable}={Mode}" : $"not set (setenv failed)";
    }
}
