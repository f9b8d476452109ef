using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NeuralVision.Losses;

/// <summary>
/// The course's localisation loss. The model outputs 5 numbers per image: presence, centre x,
/// centre y (logits, read through a sigmoid), and log width, log height (the size is exp(output)).
/// The target holds presence (0/1), the centre and the size, all relative to the image (0..1).
/// </summary>
public sealed partial record Loss
{
    /// <summary>
    /// BCE on presence; for images with an object, BCE on the centre and the squared error of
    /// output − log(size) for width and height. Averaged over the batch.
    /// </summary>
    public static Loss Box() => new("box", (o, t) =>
    {
        if (o.dim() != 2 || o.shape[1] != 5 || t.dim() != 2 || t.shape[1] != 5)
            throw new ArgumentException($"the box loss takes outputs and targets of shape [N, 5] (presence, cx, cy, w, h); got [{string.Join(", ", o.shape)}] and [{string.Join(", ", t.shape)}].");
        var presence = t[.., 0];
        var presenceLoss = F.binary_cross_entropy_with_logits(o[.., 0], presence, reduction: nn.Reduction.None);
        var centreLoss = F.binary_cross_entropy_with_logits(o[.., 1..3], t[.., 1..3], reduction: nn.Reduction.None).sum(1);
        var sizeLoss = o[.., 3..5].sub(t[.., 3..5].clamp_min(1e-6).log()).square().sum(1);
        return presenceLoss.add(presence.mul(centreLoss.add(sizeLoss))).mean();
    });

    /// <summary>Decodes outputs [N, 5] into presence probability, centre (sigmoid) and size (exp): [N, 5].</summary>
    public static Tensor DecodeBox(Tensor output) =>
        cat([output[.., 0..3].sigmoid(), output[.., 3..5].exp()], 1);
}
