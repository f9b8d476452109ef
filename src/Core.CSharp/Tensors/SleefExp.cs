namespace NeuralVision.Tensors;

/// <summary>
/// eˣ as libtorch's vectorised CPU kernels take it (<c>Vectorized&lt;float&gt;::exp</c>, SLEEF's <c>expf_u10</c>), operation
/// for operation, so that a kernel of ours that needs such an exponential gives libtorch's numbers to the bit.
/// </summary>
/// <remarks>
/// libtorch has two exponentials: <c>torch.exp</c> on a tensor goes to MKL's vector math, while kernels that
/// exponentiate inside a loop of their own (log-softmax's gradient among them) call SLEEF; the two differ in the last bit
/// for some inputs. SLEEF's <c>xexpf</c> (sleefsimdsp.c) is: n = round(x·log₂e), ties to even; s = x − n·ln2, the
/// product in two parts by fused multiply-adds; a degree-6 polynomial by fused multiply-adds; 1 + (s²·p + s); scaled by
/// 2ⁿ in two halves; 0 below −104 and +∞ above 100. Checked against the function in libtorch on every float from
/// −110 to 101 (scratch harness calling <c>Sleef_expf16_u10avx512f</c>; see the README's Speed section).
/// </remarks>
internal static class SleefExp
{
    const float Log2E = 1.442695040888963407359924681001892137426645954152985934135449406931f;
    // ln 2 in two parts: the first with trailing zeros, so that n·first is exact for the n that occur.
    const float Ln2Upper = 0.693145751953125f, Ln2Lower = 1.428606765330187045e-06f;

    /// <summary>eˣ, equal to the bit to libtorch's vectorised exp on this float.</summary>
    public static float Exp(float x)
    {
        float n = MathF.Round(x * Log2E, MidpointRounding.ToEven);
        float s = MathF.FusedMultiplyAdd(n, -Ln2Upper, x);
        s = MathF.FusedMultiplyAdd(n, -Ln2Lower, s);
        float u = 0.000198527617612853646278381f;
        u = MathF.FusedMultiplyAdd(u, s, 0.00139304355252534151077271f);
        u = MathF.FusedMultiplyAdd(u, s, 0.00833336077630519866943359f);
        u = MathF.FusedMultiplyAdd(u, s, 0.0416664853692054748535156f);
        u = MathF.FusedMultiplyAdd(u, s, 0.166666671633720397949219f);
        u = MathF.FusedMultiplyAdd(u, s, 0.5f);
        u = 1f + MathF.FusedMultiplyAdd(s * s, u, s);
        // 2ⁿ in two factors, each a normal float, so that a result below the normal range is rounded once, at the end.
        int exponent = float.IsFinite(n) && Math.Abs(n) < 1024 ? (int)n : 0;
        int half = exponent >> 1;
        u = u * PowerOfTwo(half) * PowerOfTwo(exponent - half);
        if (x < -104f) return 0f;
        if (x > 100f) return float.PositiveInfinity;
        return u;
    }

    static float PowerOfTwo(int exponent) => BitConverter.Int32BitsToSingle((exponent + 127) << 23);
}
