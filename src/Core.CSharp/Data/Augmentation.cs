using NeuralVision.Tensors;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NeuralVision.Data;

/// <summary>
/// A batch being augmented: images [N, C, H, W] in 0..1, and optionally boxes [N, 5] (presence, cx, cy,
/// w, h relative) and masks [N, 1, H, W] that must move with the images.
/// </summary>
/// <param name="Images">The images.</param>
/// <param name="Boxes">Boxes to move with the images, or null.</param>
/// <param name="Masks">Masks to move with the images, or null.</param>
public sealed record AugmentBatch(Tensor Images, Tensor? Boxes = null, Tensor? Masks = null);

/// <summary>
/// One random image transform as a value, applied to a whole batch with a seeded generator (so the
/// same seed gives the same augmented batches). Geometric transforms move boxes and masks too.
/// </summary>
public abstract record Augmentation
{
    /// <summary>The batch transformed; inputs are not changed.</summary>
    public abstract AugmentBatch Apply(AugmentBatch batch, Generator random);

    /// <summary>N uniform numbers in [low, high).</summary>
    protected static Tensor Uniform(long n, double low, double high, Generator random, Device device) =>
        rand([n], generator: random).mul(high - low).add(low).to(device);

    /// <summary>N booleans, each true with probability p.</summary>
    protected static Tensor Chance(long n, double p, Generator random, Device device) => rand([n], generator: random).lt(p).to(device);
}

/// <summary>Pads by <paramref name="Padding"/> zeros on each side, then crops back to the original size at a random offset per image.</summary>
public sealed record RandomCrop(int Padding) : Augmentation
{
    /// <inheritdoc/>
    public override AugmentBatch Apply(AugmentBatch b, Generator random)
    {
        long n = b.Images.shape[0], h = b.Images.shape[2], w = b.Images.shape[3];
        var offsets = randint(2 * Padding + 1, [n, 2], generator: random).data<long>().ToArray();
        Tensor Crop(Tensor x)
        {
            using var padded = F.pad(x, [Padding, Padding, Padding, Padding]);
            return cat(Enumerable.Range(0, (int)n).Select(i => padded[i..(i + 1)].narrow(2, offsets[2 * i], h).narrow(3, offsets[2 * i + 1], w)).ToArray(), 0);
        }
        Tensor? boxes = null;
        if (b.Boxes is { } box)
        {
            using var shift = tensor(offsets, [n, 2]).to_type(box.dtype).to(box.device);
            var dx = shift[.., 1].neg().add(Padding).div(w);
            var dy = shift[.., 0].neg().add(Padding).div(h);
            boxes = ClipBoxes(box.clone().index_put_(box[.., 1].add(dx), TensorIndex.Colon, TensorIndex.Single(1)).index_put_(box[.., 2].add(dy), TensorIndex.Colon, TensorIndex.Single(2)));
        }
        return new AugmentBatch(Crop(b.Images), boxes, b.Masks is { } m ? Crop(m) : null);
    }

    /// <summary>Boxes clipped to the canvas after a move: the visible part of each box.</summary>
    internal static Tensor ClipBoxes(Tensor boxes)
    {
        var x0 = boxes[.., 1].sub(boxes[.., 3].div(2)).clamp(0, 1);
        var x1 = boxes[.., 1].add(boxes[.., 3].div(2)).clamp(0, 1);
        var y0 = boxes[.., 2].sub(boxes[.., 4].div(2)).clamp(0, 1);
        var y1 = boxes[.., 2].add(boxes[.., 4].div(2)).clamp(0, 1);
        return stack([boxes[.., 0], x0.add(x1).div(2), y0.add(y1).div(2), x1.sub(x0), y1.sub(y0)], 1);
    }
}

/// <summary>Mirrors each image left–right with probability <paramref name="P"/>.</summary>
public sealed record HorizontalFlip(double P = 0.5) : Augmentation
{
    /// <inheritdoc/>
    public override AugmentBatch Apply(AugmentBatch b, Generator random)
    {
        var flip = Chance(b.Images.shape[0], P, random, b.Images.device);
        Tensor Flip(Tensor x) => where(flip.view(-1, 1, 1, 1), x.flip(3), x);
        Tensor? boxes = null;
        if (b.Boxes is { } box)
        {
            var cx = where(flip, box[.., 1].neg().add(1), box[.., 1]);
            boxes = box.clone().index_put_(cx, TensorIndex.Colon, TensorIndex.Single(1));
        }
        return new AugmentBatch(Flip(b.Images), boxes, b.Masks is { } m ? Flip(m) : null);
    }
}

/// <summary>
/// A random affine map per image: rotation within ±<paramref name="Degrees"/>, translation within
/// ±<paramref name="Translate"/> of the size, scale in [<paramref name="ScaleMin"/>, <paramref name="ScaleMax"/>].
/// Images are resampled bilinearly, masks by nearest pixel, and boxes become the box around their moved corners.
/// </summary>
public sealed record Affine(double Degrees, double Translate = 0, double ScaleMin = 1, double ScaleMax = 1) : Augmentation
{
    /// <summary>Rotation only.</summary>
    public static Affine Rotation(double degrees) => new(degrees);

    /// <inheritdoc/>
    public override AugmentBatch Apply(AugmentBatch b, Generator random)
    {
        long n = b.Images.shape[0];
        var device = b.Images.device;
        var angle = Uniform(n, -Degrees, Degrees, random, device).mul(Math.PI / 180);
        var scale = Uniform(n, ScaleMin, ScaleMax, random, device);
        var tx = Uniform(n, -Translate, Translate, random, device).mul(2);
        var ty = Uniform(n, -Translate, Translate, random, device).mul(2);
        // The forward map (input → output) in [-1, 1] coordinates: p' = s·R·p + t. affine_grid needs its inverse.
        var cos = angle.cos().mul(scale);
        var sin = angle.sin().mul(scale);
        var forward = stack([stack([cos, sin.neg(), tx], 1), stack([sin, cos, ty], 1)], 1).to_type(b.Images.dtype);
        var square = cat([forward, tensor(new float[] { 0, 0, 1 }, dtype: forward.dtype, device: device).expand(n, 1, 3)], 1);
        var inverse = linalg.inv(square)[.., ..2, ..];
        var grid = F.affine_grid(inverse, b.Images.shape, align_corners: false);
        var images = F.grid_sample(b.Images, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
        var masks = b.Masks is { } m ? F.grid_sample(m, grid.to_type(m.dtype), mode: GridSampleMode.Nearest, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false) : null;
        var boxes = b.Boxes is { } box ? MoveBoxes(box, forward) : null;
        return new AugmentBatch(images, boxes, masks);
    }

    static Tensor MoveBoxes(Tensor box, Tensor forward)
    {
        // Corners in [-1, 1] coordinates, mapped forward; the new box holds all four.
        var x0 = box[.., 1].sub(box[.., 3].div(2)).mul(2).sub(1);
        var x1 = box[.., 1].add(box[.., 3].div(2)).mul(2).sub(1);
        var y0 = box[.., 2].sub(box[.., 4].div(2)).mul(2).sub(1);
        var y1 = box[.., 2].add(box[.., 4].div(2)).mul(2).sub(1);
        var corners = stack([stack([x0, y0], 1), stack([x1, y0], 1), stack([x0, y1], 1), stack([x1, y1], 1)], 1); // [N, 4, 2]
        var moved = corners.matmul(forward[.., .., ..2].transpose(1, 2).to_type(box.dtype)).add(forward[.., .., 2].unsqueeze(1).to_type(box.dtype));
        var lo = moved.amin([1L]).add(1).div(2);
        var hi = moved.amax([1L]).add(1).div(2);
        var result = stack([box[.., 0], lo[.., 0].add(hi[.., 0]).div(2), lo[.., 1].add(hi[.., 1]).div(2), hi[.., 0].sub(lo[.., 0]), hi[.., 1].sub(lo[.., 1])], 1);
        return RandomCrop.ClipBoxes(result);
    }
}

/// <summary>Random brightness, contrast and (for RGB) saturation factors in [1 − x, 1 + x] per image; values stay in 0..1.</summary>
public sealed record ColourJitter(double Brightness = 0.2, double Contrast = 0.2, double Saturation = 0.2) : Augmentation
{
    /// <inheritdoc/>
    public override AugmentBatch Apply(AugmentBatch b, Generator random)
    {
        long n = b.Images.shape[0];
        var device = b.Images.device;
        var x = b.Images.mul(Uniform(n, 1 - Brightness, 1 + Brightness, random, device).view(-1, 1, 1, 1));
        var mean = x.mean([1L, 2L, 3L], keepdim: true);
        x = x.sub(mean).mul(Uniform(n, 1 - Contrast, 1 + Contrast, random, device).view(-1, 1, 1, 1)).add(mean);
        if (x.shape[1] == 3)
        {
            var grey = x.mean([1L], keepdim: true);
            x = x.sub(grey).mul(Uniform(n, 1 - Saturation, 1 + Saturation, random, device).view(-1, 1, 1, 1)).add(grey);
        }
        return b with { Images = x.clamp(0, 1) };
    }
}

/// <summary>Adds Gaussian noise of standard deviation <paramref name="Std"/>; values stay in 0..1.</summary>
public sealed record GaussianNoise(double Std = 0.05) : Augmentation
{
    /// <inheritdoc/>
    public override AugmentBatch Apply(AugmentBatch b, Generator random) =>
        b with { Images = b.Images.add(randn(b.Images.shape, generator: random).to(b.Images.device).mul(Std)).clamp(0, 1) };
}

/// <summary>With probability <paramref name="P"/>, blanks a random rectangle covering <paramref name="MinArea"/>–<paramref name="MaxArea"/> of the image.</summary>
public sealed record RandomErasing(double P = 0.5, double MinArea = 0.02, double MaxArea = 0.2) : Augmentation
{
    /// <inheritdoc/>
    public override AugmentBatch Apply(AugmentBatch b, Generator random)
    {
        long n = b.Images.shape[0], h = b.Images.shape[2], w = b.Images.shape[3];
        var draws = rand([n, 5], generator: random).data<float>().ToArray();
        var keep = ones([n, 1, h, w], device: b.Images.device);
        for (int i = 0; i < n; i++)
        {
            if (draws[5 * i] >= P) continue;
            var area = (MinArea + draws[5 * i + 1] * (MaxArea - MinArea)) * h * w;
            var aspect = Math.Exp((draws[5 * i + 2] - 0.5) * 2 * Math.Log(3));
            long eh = Math.Clamp((long)Math.Round(Math.Sqrt(area * aspect)), 1, h), ew = Math.Clamp((long)Math.Round(Math.Sqrt(area / aspect)), 1, w);
            long top = (long)(draws[5 * i + 3] * (h - eh + 1)), left = (long)(draws[5 * i + 4] * (w - ew + 1));
            keep[i, 0].narrow(0, top, eh).narrow(1, left, ew).fill_(0);
        }
        return b with { Images = b.Images.mul(keep) };
    }
}

/// <summary>Augmentations applied in order, seeded per epoch and batch, hooked into a <see cref="Loader"/>.</summary>
/// <param name="Steps">The transforms, first applied first.</param>
/// <param name="Seed">The base seed.</param>
/// <param name="Targets">What the batch targets are: untouched labels, boxes that move, or masks that move.</param>
public sealed record Augmenter(IReadOnlyList<Augmentation> Steps, long Seed, AugmentTargets Targets = AugmentTargets.Labels)
{
    /// <summary>An augmenter whose seed is drawn from libtorch's generator.</summary>
    public static Augmenter Of(AugmentTargets targets, params Augmentation[] steps) => new(steps, Seeding.NewRandom().NextInt64(), targets);

    /// <summary>Augments batch <paramref name="index"/> of epoch <paramref name="epoch"/>; the same numbers give the same result.</summary>
    public Batch Apply(Batch batch, int epoch, int index)
    {
        using var random = new Generator((ulong)Seeding.Mix(Seeding.Mix(Seed, epoch), index));
        // The transforms' temporaries die here; only the results reach the caller's scope.
        using var scope = NewDisposeScope();
        var b = new AugmentBatch(batch.Inputs,
            Targets == AugmentTargets.Boxes ? batch.Targets : null,
            Targets == AugmentTargets.Masks ? batch.Targets : null);
        foreach (var step in Steps) b = step.Apply(b, random);
        var targets = Targets switch
        {
            AugmentTargets.Boxes => b.Boxes!,
            AugmentTargets.Masks => b.Masks!,
            _ => batch.Targets,
        };
        var images = b.Images.MoveToOuterDisposeScope();
        return new Batch(images, ReferenceEquals(targets, batch.Targets) ? targets : targets.MoveToOuterDisposeScope(), Owned: true);
    }
}

/// <summary>What an augmented batch's targets are.</summary>
public enum AugmentTargets
{
    /// <summary>Class labels or values: unchanged by augmentation.</summary>
    Labels,
    /// <summary>Boxes [N, 5] that move with the image.</summary>
    Boxes,
    /// <summary>Masks [N, 1, H, W] that move with the image.</summary>
    Masks,
}
