using NeuralVision.Native;
using static TorchSharp.torch;

namespace NeuralVision.Data;

/// <summary>Objects on canvases: images, their true boxes and true masks, and the items' classes.</summary>
/// <param name="Images">[N, 1, S, S] in 0..1: noise with one item (or none) on it.</param>
/// <param name="Boxes">[N, 5]: presence (0/1), centre x, centre y, width, height — relative to the canvas (0..1).</param>
/// <param name="Masks">[N, 1, S, S]: 1 where the item's pixels are, else 0.</param>
/// <param name="Labels">[N] the item's class (−1 for an empty canvas).</param>
public sealed record CanvasSet(Tensor Images, Tensor Boxes, Tensor Masks, Tensor Labels)
{
    /// <summary>The number of canvases.</summary>
    public long Count => Images.shape[0];
    /// <summary>Images with boxes as targets (localisation).</summary>
    public TensorData ForBoxes() => new(Images, Boxes);
    /// <summary>Images with masks as targets (segmentation).</summary>
    public TensorData ForMasks() => new(Images, Masks);
}

/// <summary>
/// Places real items (e.g. Fashion-MNIST clothes) at random position and scale on larger noisy
/// canvases, recording the true box (tight around the item's pixels) and the true per-pixel mask:
/// the real-image basis of the localisation and segmentation examples.
/// </summary>
public static class Canvas
{
    /// <summary>
    /// <paramref name="count"/> canvases of <paramref name="size"/>×<paramref name="size"/>; each item is
    /// scaled by a factor in [<paramref name="minScale"/>, <paramref name="maxScale"/>] (bilinear), placed
    /// wholly inside, over uniform noise of amplitude <paramref name="noise"/>. A share
    /// <paramref name="emptyFraction"/> of canvases holds no item. Seeded: the same arguments give the same canvases.
    /// </summary>
    public static CanvasSet Place(ImageSet items, int count, int seed, int size = 64, double minScale = 0.8, double maxScale = 1.6,
        double noise = 0.15, double emptyFraction = 0.0, double maskThreshold = 0.2)
    {
        if (items.Channels != 1) throw new ArgumentException($"items must be grey (1 channel), got {items.Channels}.");
        if (maxScale * Math.Max(items.Height, items.Width) > size)
            throw new ArgumentException($"items scaled by {maxScale} ({maxScale * items.Height:F0} px) do not fit a {size}-pixel canvas; lower maxScale or enlarge the canvas.");
        TorchNative.EnsureLoaded();
        var random = new Random(seed);
        var images = new float[count * size * size];
        var masks = new float[count * size * size];
        var boxes = new float[count * 5];
        var labels = new long[count];
        for (int n = 0; n < count; n++)
        {
            var canvas = images.AsSpan(n * size * size, size * size);
            for (int p = 0; p < canvas.Length; p++) canvas[p] = (float)(random.NextDouble() * noise);
            if (random.NextDouble() < emptyFraction)
            {
                labels[n] = -1;
                continue;
            }
            int item = random.Next(items.Count);
            labels[n] = items.Labels[item];
            double scale = minScale + random.NextDouble() * (maxScale - minScale);
            int h = (int)Math.Round(items.Height * scale), w = (int)Math.Round(items.Width * scale);
            int top = random.Next(size - h + 1), left = random.Next(size - w + 1);
            int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var v = Bilinear(items, item, (y + 0.5) / scale - 0.5, (x + 0.5) / scale - 0.5);
                    int at = (top + y) * size + left + x;
                    canvas[at] = Math.Max(canvas[at], v);
                    if (v > maskThreshold)
                    {
                        masks[n * size * size + at] = 1;
                        minX = Math.Min(minX, left + x); maxX = Math.Max(maxX, left + x);
                        minY = Math.Min(minY, top + y); maxY = Math.Max(maxY, top + y);
                    }
                }
            if (maxX < 0) { labels[n] = -1; continue; } // an item too faint to have pixels counts as empty
            boxes[n * 5] = 1;
            boxes[n * 5 + 1] = (minX + maxX + 1) / 2f / size;
            boxes[n * 5 + 2] = (minY + maxY + 1) / 2f / size;
            boxes[n * 5 + 3] = (maxX - minX + 1f) / size;
            boxes[n * 5 + 4] = (maxY - minY + 1f) / size;
        }
        return new CanvasSet(
            tensor(images, [count, 1, size, size]), tensor(boxes, [count, 5]),
            tensor(masks, [count, 1, size, size]), tensor(labels));
    }

    /// <summary>The item's value at a fractional pixel position (0 outside), in 0..1.</summary>
    static float Bilinear(ImageSet items, int item, double y, double x)
    {
        int y0 = (int)Math.Floor(y), x0 = (int)Math.Floor(x);
        double fy = y - y0, fx = x - x0;
        double Pixel(int yy, int xx) => yy < 0 || xx < 0 || yy >= items.Height || xx >= items.Width ? 0
            : items.Pixels[(item * items.Height + yy) * items.Width + xx] / 255.0;
        return (float)((1 - fy) * ((1 - fx) * Pixel(y0, x0) + fx * Pixel(y0, x0 + 1)) + fy * ((1 - fx) * Pixel(y0 + 1, x0) + fx * Pixel(y0 + 1, x0 + 1)));
    }
}
