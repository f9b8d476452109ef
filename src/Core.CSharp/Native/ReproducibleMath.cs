using System.Runtime.InteropServices;

namespace NeuralVision.Native;

/// <summary>
/// Asks MKL (inside libtorch, behind every linear layer's matrix product) for results that do not change
/// from run to run: MKL_CBWR=AUTO, its "conditional numerical reproducibility" on the code path it would
/// choose anyway. Without it MKL may split a long sum differently between runs (seen here: about one
/// process in ten to forty gave the same seed a loss different in the 8th digit, always the same
/// alternative value, so checkpoint resume and the determinism tests could not be trusted). With AUTO the
/// figures are the ones MKL gives in its usual mode.
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
