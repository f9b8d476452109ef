using NeuralVision.Native;
using TorchSharp;

namespace NeuralVision.Data;

/// <summary>
/// Labelled images held as bytes (0–255), compact and cheap to slice; <see cref="ToTensors"/> gives
/// the float tensors a model trains on.
/// </summary>
/// <param name="Pixels">Count × Channels × Height × Width bytes, row-major.</param>
/// <param name="Count">The number of images.</param>
/// <param name="Channels">Channels per image (1 for grey).</param>
/// <param name="Height">Rows per image.</param>
/// <param name="Width">Columns per image.</param>
/// <param name="Labels">One class index per image.</param>
/// <param name="Classes">The class names, indexed by label.</param>
public sealed record ImageSet(byte[] Pixels, int Count, int Channels, int Height, int Width, byte[] Labels, IReadOnlyList<string> Classes)
{
    /// <summary>Images as float32 [N, C, H, W] scaled to 0..1, and labels as int64 [N].</summary>
    public (torch.Tensor Images, torch.Tensor Labels) ToTensors()
    {
        TorchNative.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        // The bytes are read where they lie (frombuffer shares the managed array) and scaled in place: a byte copy
        // in native memory (47 MB for Fashion-MNIST) or a second float copy (188 MB) would raise a run's peak.
        var pixels = torch.frombuffer(Pixels, torch.ScalarType.Byte, count: (long)Count * Channels * Height * Width);
        var images = pixels.to(torch.float32).view(Count, Channels, Height, Width).div_(255f);
        var labels = torch.tensor(Labels.Select(l => (long)l).ToArray());
        return (images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>The images and labels as <see cref="TensorData"/> for loaders and evaluation.</summary>
    public TensorData ToData()
    {
        var (images, labels) = ToTensors();
        return new TensorData(images, labels);
    }

    /// <summary>The first <paramref name="count"/> images (all when fewer).</summary>
    public ImageSet Take(int count)
    {
        var n = Math.Clamp(count, 0, Count);
        var size = Channels * Height * Width;
        return this with { Pixels = Pixels[..(n * size)], Labels = Labels[..n], Count = n };
    }

    /// <summary>Builds a set from an IDX image file ([N, H, W]) and an IDX label file ([N]), checking they agree.</summary>
    public static ImageSet FromIdx(string imagesPath, string labelsPath, IReadOnlyList<string> classes)
    {
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        if (images.Shape.Length != 3)
            throw new DataException($"{imagesPath}: expected images of shape [N, H, W], got [{string.Join(", ", images.Shape)}].");
        if (labels.Shape.Length != 1)
            throw new DataException($"{labelsPath}: expected labels of shape [N], got [{string.Join(", ", labels.Shape)}].");
        if (images.Count != labels.Count)
            throw new DataException($"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Count} labels; they must match.");
        var bad = Array.FindIndex(labels.Values, l => l >= classes.Count);
        if (bad >= 0)
            throw new DataException($"{labelsPath}: label {labels.Values[bad]} of item {bad} (offset {8 + bad}) is not below the {classes.Count} classes.");
        return new ImageSet(images.Values, images.Count, 1, images.Shape[1], images.Shape[2], labels.Values, classes);
    }
}

/// <summary>A data set's training and test parts.</summary>
public sealed record TrainTest(ImageSet Train, ImageSet Test);
