using static TorchSharp.torch;

namespace NeuralVision.Layers;

/// <summary>How <see cref="Upsample"/> fills new pixels.</summary>
public enum UpsampleMode
{
    /// <summary>Copies the nearest input pixel.</summary>
    Nearest,
    /// <summary>Interpolates linearly in both directions.</summary>
    Bilinear,
}

/// <summary>Enlarges [C, H, W] images by an integer factor.</summary>
/// <param name="Scale">The factor for height and width.</param>
/// <param name="Mode">Nearest or bilinear.</param>
public sealed record Upsample(long Scale, UpsampleMode Mode = UpsampleMode.Nearest) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => $"upsample({Scale}, {Mode.ToString().ToLowerInvariant()})";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input");
        return new Shape(input[0], input[1] * Scale, input[2] * Scale);
    }
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => Mode == UpsampleMode.Nearest
        ? nn.Upsample(scale_factor: [Scale, Scale], mode: TorchSharp.torch.UpsampleMode.Nearest)
        : nn.Upsample(scale_factor: [Scale, Scale], mode: TorchSharp.torch.UpsampleMode.Bilinear, align_corners: false);
}

/// <summary>Rearranges [C·r², H, W] into [C, H·r, W·r]: sub-pixel convolution's upsampling.</summary>
/// <param name="Factor">The upscale factor r.</param>
public sealed record PixelShuffle(long Factor) : LeafLayer
{
    /// <inheritdoc/>
    public override string Describe() => $"pixelShuffle({Factor})";
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input, string path = "")
    {
        RequireRank(input, path, 3, "a [channels, height, width] input");
        var r2 = Factor * Factor;
        if (input[0] % r2 != 0)
            throw new ShapeException(path, Describe(), input, $"channels divisible by {r2} (factor {Factor} squared)", $"give the convolution before it {r2}·C channels");
        return new Shape(input[0] / r2, input[1] * Factor, input[2] * Factor);
    }
    /// <inheritdoc/>
    protected override nn.Module<Tensor, Tensor> CreateModule(Shape input) => nn.PixelShuffle(Factor);
}
