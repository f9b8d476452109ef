using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralVision.Optim;

/// <summary>
/// Puts a set of parameters into one contiguous buffer (and their gradients into another), so that an
/// optimiser updates them all with one handful of operations instead of a handful per parameter. The
/// optimisers of the course are element-wise, so the result is the same to the bit; what changes is
/// the per-step overhead (TorchSharp's optimisers run several small operations per parameter).
/// </summary>
/// <remarks>
/// Each parameter keeps its identity (modules, state dicts and checkpoints see no difference) but its
/// storage becomes a view of the flat buffer, and its gradient a view of the flat gradient, into which
/// backward accumulates in place. Moving the module to another device afterwards would undo this:
/// flatten after the model is on its device (<see cref="Layers.Model.Build"/> does so).
/// </remarks>
internal static class FlatParameters
{
    /// <summary>One parameter viewing all of <paramref name="parameters"/> (of one dtype and device), gradient included.</summary>
    public static Parameter Flatten(IReadOnlyList<Parameter> parameters)
    {
        if (parameters.Count == 0) throw new ArgumentException("nothing to flatten");
        var dtype = parameters[0].dtype;
        var device = parameters[0].device;
        if (parameters.Any(p => p.dtype != dtype || p.device.type != device.type))
            throw new ArgumentException("parameters of different types or devices cannot share one buffer");
        using var noGrad = no_grad();
        long total = parameters.Sum(p => p.numel());
        var flat = new Parameter(empty(total, dtype: dtype, device: device));
        var flatGrad = zeros(total, dtype: dtype, device: device).DetachFromDisposeScope();
        long offset = 0;
        foreach (var p in parameters)
        {
            var n = p.numel();
            var data = flat.narrow(0, offset, n).view(p.shape);
            data.copy_(p);
            p.set_(data);
            p.grad = flatGrad.narrow(0, offset, n).view(p.shape);
            offset += n;
        }
        flat.grad = flatGrad;
        return flat;
    }
}
