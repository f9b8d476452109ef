using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralVision.Optim;

/// <summary>
/// Products of floats that fall below float's normal range, computed as the multiplication rounds them but without
/// it: every multiplication that takes or gives such a number costs a microcode assist (about 150 cycles) on the
/// x86 processors this library runs on, unless the process flushes them to zero, which would change the results.
/// </summary>
/// <remarks>
/// Below 2⁻¹²⁵ a float's bits, read as an integer, count units of 2⁻¹⁴⁹, the spacing of floats there: a product
/// under 2⁻¹²⁵ is the whole number of units nearest to the exact product (ties to even), which double arithmetic
/// finds exactly (24-bit by 24-bit products are exact in double) and the conversion to int32 rounds as IEEE does.
/// All inlined: called in the passes' loops, a call would make the JIT keep the loops' vectors on the stack.
/// </remarks>
internal static class Subnormal
{
    /// <summary>2⁻¹²⁵: below it a float's bits count units of 2⁻¹⁴⁹.</summary>
    public static readonly double Tiny = Math.ScaleB(1.0, -125);

    /// <summary>2²³ units: 2⁻¹²⁶, the smallest normal float.</summary>
    public const float UnitsOfSmallestNormal = 1 << 23;

    static readonly float TinyFloat = MathF.ScaleB(1f, -125);
    static readonly double UnitsPerOne = Math.ScaleB(1.0, 149);

    /// <summary>Lanes of <paramref name="x"/> below 2⁻¹²⁵ in size and not zero (all bits set there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> IsTiny(Vector256<float> x) =>
        Vector256.LessThan(Vector256.Abs(x), Vector256.Create(TinyFloat)) & ~Vector256.Equals(x, Vector256<float>.Zero);

    /// <summary>
    /// <paramref name="units"/> · <paramref name="factor"/> rounded to whole units, ties to even, for
    /// 0 ≤ units &lt; 2²⁴ and 0 ≤ factor ≤ 1 (so that the result is below 2²⁴ units too).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> RoundedProduct(Vector256<int> units, float factor)
    {
        var f = Vector256.Create((double)factor);
        return Vector256.Create(
            Avx.ConvertToVector128Int32(Avx.ConvertToVector256Double(units.GetLower()) * f),
            Avx.ConvertToVector128Int32(Avx.ConvertToVector256Double(units.GetUpper()) * f));
    }

    /// <summary>
    /// x · <paramref name="factor"/> in units of 2⁻¹⁴⁹, rounded to whole units as the float multiplication rounds it,
    /// as floats (exact: whole numbers below 2²⁴), for lanes whose product is below 2⁻¹²⁵ in size; other lanes hold
    /// no meaningful value. Tiny lanes of x are read from their bits, the others converted, so no lane is multiplied
    /// while below the normal range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ProductInUnits(Vector256<float> x, float factor)
    {
        var tiny = IsTiny(x);
        var bits = x.AsInt32();
        var negative = Vector256.ShiftRightArithmetic(bits, 31);
        var signedUnits = Vector256.ConditionalSelect(tiny.AsInt32(), ((bits & Vector256.Create(int.MaxValue)) ^ negative) - negative, Vector256<int>.Zero);
        var normal = Vector256.ConditionalSelect(tiny, Vector256<float>.Zero, x);
        var f = Vector256.Create((double)factor);
        var scale = Vector256.Create(UnitsPerOne);
        var lower = (Avx.ConvertToVector256Double(signedUnits.GetLower()) + Avx.ConvertToVector256Double(normal.GetLower()) * scale) * f;
        var upper = (Avx.ConvertToVector256Double(signedUnits.GetUpper()) + Avx.ConvertToVector256Double(normal.GetUpper()) * scale) * f;
        return Avx.ConvertToVector256Single(Vector256.Create(Avx.ConvertToVector128Int32(lower), Avx.ConvertToVector128Int32(upper)));
    }
}
