using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NeuralVision.Losses;

/// <summary>Per-pixel losses for masks: logits [N, 1, H, W] against 0/1 masks of the same shape.</summary>
public sealed partial record Loss
{
    /// <summary>
    /// BCE of every pixel (sigmoid inside), summed over the pixels of each image as the course does,
    /// or averaged; then averaged over the batch.
    /// </summary>
    public static Loss PixelBce(Reduce overPixels = Reduce.Sum) =>
        new(overPixels == Reduce.Sum ? "pixelBce(sum)" : "pixelBce(mean)", (o, t) =>
        {
            var perPixel = F.binary_cross_entropy_with_logits(o, t, reduction: nn.Reduction.None);
            var perImage = overPixels == Reduce.Sum ? perPixel.flatten(1).sum(1) : perPixel.flatten(1).mean([1L]);
            return perImage.mean();
        });

    /// <summary>
    /// 1 − Dice coefficient per image, averaged: 1 − (2·Σ p·t + s) / (Σ p + Σ t + s) with p = sigmoid(logits)
    /// and smoothing s, so that empty masks give no division by zero.
    /// </summary>
    public static Loss Dice(double smoothing = 1.0) =>
        new("dice", (o, t) =>
        {
            var p = o.sigmoid().flatten(1);
            var truth = t.flatten(1);
            var overlap = p.mul(truth).sum(1).mul(2).add(smoothing);
            var total = p.sum(1).add(truth.sum(1)).add(smoothing);
            return overlap.div(total).neg().add(1).mean();
        });
}
