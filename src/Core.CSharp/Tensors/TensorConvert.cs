using MathNet.Numerics.LinearAlgebra;
using NeuralVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Tensors;

/// <summary>
/// Conversions between .NET data (arrays of rank 1 to 4, MathNet vectors and matrices) and libtorch
/// tensors. Every conversion copies: a tensor never aliases the caller's array and the returned
/// arrays never alias a tensor, so neither side can change the other.
/// </summary>
public static class TensorConvert
{
    static TensorConvert() => TorchNative.EnsureLoaded();

    /// <summary>A float32 tensor of shape [n] holding a copy of <paramref name="values"/>.</summary>
    public static torch.Tensor From(float[] values) => tensor(values);
    /// <summary>A float32 tensor of shape [rows, cols].</summary>
    public static torch.Tensor From(float[,] values) => tensor(values);
    /// <summary>A float32 tensor of shape [a, b, c].</summary>
    public static torch.Tensor From(float[,,] values) => tensor(values);
    /// <summary>A float32 tensor of shape [a, b, c, d] (e.g. N×C×H×W images).</summary>
    public static torch.Tensor From(float[,,,] values) => tensor(values);
    /// <summary>A float64 tensor of shape [n].</summary>
    public static torch.Tensor From(double[] values) => tensor(values);
    /// <summary>A float64 tensor of shape [rows, cols].</summary>
    public static torch.Tensor From(double[,] values) => tensor(values);
    /// <summary>A float64 tensor of shape [a, b, c].</summary>
    public static torch.Tensor From(double[,,] values) => tensor(values);
    /// <summary>A float64 tensor of shape [a, b, c, d].</summary>
    public static torch.Tensor From(double[,,,] values) => tensor(values);
    /// <summary>An int64 tensor of shape [n], the type class labels take.</summary>
    public static torch.Tensor From(long[] values) => tensor(values);

    /// <summary>A float64 tensor of shape [n] from a MathNet vector.</summary>
    public static torch.Tensor From(Vector<double> vector) => tensor(vector.ToArray());
    /// <summary>A float64 tensor of shape [rows, cols] from a MathNet matrix.</summary>
    public static torch.Tensor From(Matrix<double> matrix) => tensor(matrix.ToArray());

    /// <summary>The values of a rank-1 tensor (converted to <typeparamref name="T"/>), copied to the CPU.</summary>
    public static T[] ToArray1<T>(torch.Tensor t) where T : unmanaged => Values<T>(t, 1);

    /// <summary>The values of a rank-2 tensor as a [rows, cols] array.</summary>
    public static T[,] ToArray2<T>(torch.Tensor t) where T : unmanaged
    {
        var flat = Values<T>(t, 2);
        var result = new T[t.shape[0], t.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return result;
    }

    /// <summary>The values of a rank-3 tensor as an [a, b, c] array.</summary>
    public static T[,,] ToArray3<T>(torch.Tensor t) where T : unmanaged
    {
        var flat = Values<T>(t, 3);
        var result = new T[t.shape[0], t.shape[1], t.shape[2]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return result;
    }

    /// <summary>The values of a rank-4 tensor as an [a, b, c, d] array.</summary>
    public static T[,,,] ToArray4<T>(torch.Tensor t) where T : unmanaged
    {
        var flat = Values<T>(t, 4);
        var result = new T[t.shape[0], t.shape[1], t.shape[2], t.shape[3]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return result;
    }

    /// <summary>A rank-1 tensor as a MathNet vector (float64).</summary>
    public static Vector<double> ToVector(torch.Tensor t) => Vector<double>.Build.DenseOfArray(ToArray1<double>(t));

    /// <summary>A rank-2 tensor as a MathNet matrix (float64).</summary>
    public static Matrix<double> ToMatrix(torch.Tensor t) => Matrix<double>.Build.DenseOfArray(ToArray2<double>(t));

    /// <summary>
    /// The tensor on <paramref name="device"/>. A new tensor when it moves; the same tensor when it is
    /// already there (as torch's <c>to</c>), never a changed input.
    /// </summary>
    public static torch.Tensor ToDevice(torch.Tensor t, Device device) => t.to(device);

    static T[] Values<T>(torch.Tensor t, int rank) where T : unmanaged
    {
        if (t.dim() != rank)
            throw new ArgumentException($"Expected a tensor of rank {rank}, got shape [{string.Join(", ", t.shape)}]; reshape it first or use ToArray{t.dim()}.");
        using var scope = NewDisposeScope();
        return t.detach().cpu().to_type(ScalarTypeOf<T>()).contiguous().data<T>().ToArray();
    }

    static ScalarType ScalarTypeOf<T>() => Type.GetTypeCode(typeof(T)) switch
    {
        TypeCode.Single => ScalarType.Float32,
        TypeCode.Double => ScalarType.Float64,
        TypeCode.Int64 => ScalarType.Int64,
        TypeCode.Int32 => ScalarType.Int32,
        TypeCode.Byte => ScalarType.Byte,
        TypeCode.Boolean => ScalarType.Bool,
        _ => throw new ArgumentException($"{typeof(T).Name} has no libtorch element type; use float, double, long, int, byte or bool."),
    };
}
