using SkiaSharp;

namespace NeuralVision.Data;

/// <summary>
/// Images in folders, one subfolder per class (JPEG or PNG), decoded with SkiaSharp and resized to a
/// fixed size — the layout of torchvision's ImageFolder.
/// </summary>
public static class ImageFolder
{
    static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    /// <summary>
    /// Loads <paramref name="root"/>/CLASS/*.jpg|png, classes in name order, each image resized to
    /// <paramref name="height"/>×<paramref name="width"/> with 3 (RGB) or 1 (grey) channels, whatever its own size
    /// and channels. An unreadable or truncated image is an error naming the file.
    /// </summary>
    public static ImageSet Load(string root, int height, int width, int channels = 3) => Load(root, height, width, channels, null);

    /// <summary>
    /// As <see cref="Load(string, int, int, int)"/>, but an unreadable or truncated image is left out and added to
    /// <paramref name="skipped"/> as "path: reason", so one bad file does not stop a run.
    /// </summary>
    public static ImageSet LoadSkippingUnreadable(string root, int height, int width, int channels, ICollection<string> skipped) =>
        Load(root, height, width, channels, skipped);

    static ImageSet Load(string root, int height, int width, int channels, ICollection<string>? skipped)
    {
        if (!Directory.Exists(root)) throw new DataException($"{root}: no such folder; it should hold one subfolder per class.");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 (grey) or 3 (RGB)");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        var files = classes.SelectMany((c, label) => Directory.GetFiles(Path.Combine(root, c))
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .Select(f => (File: f, Label: (byte)label)))
            .ToList();
        if (files.Count == 0)
            throw new DataException($"{root}: no .jpg or .png images in its subfolders ({(classes.Length == 0 ? "there are no subfolders" : string.Join(", ", classes))}); an empty data set cannot be used.");
        var size = channels * height * width;
        var pixels = new List<byte[]>(files.Count);
        var labels = new List<byte>(files.Count);
        foreach (var (file, label) in files)
        {
            byte[] image;
            try { image = ReadResized(file, height, width, channels); }
            catch (DataException e) when (skipped is not null)
            {
                skipped.Add(e.Message);
                continue;
            }
            pixels.Add(image);
            labels.Add(label);
        }
        if (pixels.Count == 0)
            throw new DataException($"{root}: none of its {files.Count} images could be read; an empty data set cannot be used.");
        var all = new byte[pixels.Count * size];
        for (int i = 0; i < pixels.Count; i++) pixels[i].CopyTo(all, i * size);
        return new ImageSet(all, pixels.Count, channels, height, width, labels.ToArray(), classes);
    }

    /// <summary>
    /// Writes an image set as a class-per-folder tree, <paramref name="root"/>/CLASS/NNNNN.png (grey or RGB PNGs), the
    /// layout <see cref="Load(string, int, int, int)"/> reads. Characters a folder name cannot hold ("T-shirt/top") become '-'.
    /// </summary>
    public static void Save(ImageSet images, string root)
    {
        int plane = images.Height * images.Width, size = images.Channels * plane;
        var folders = images.Classes.Select(c => string.Concat(c.Select(ch => Path.GetInvalidFileNameChars().Contains(ch) ? '-' : ch))).ToArray();
        if (folders.Distinct().Count() != folders.Length)
            throw new ArgumentException($"the class names {string.Join(", ", images.Classes)} give the same folder name twice", nameof(images));
        for (int i = 0; i < images.Count; i++)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(images.Width, images.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            var rgba = new byte[4 * plane];
            for (int p = 0; p < plane; p++)
            {
                for (int c = 0; c < 3; c++)
                    rgba[4 * p + c] = images.Pixels[i * size + (images.Channels == 1 ? 0 : c * plane) + p];
                rgba[4 * p + 3] = 255;
            }
            System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            var path = Path.Combine(root, folders[images.Labels[i]], $"{i:D5}.png");
            AtomicFile.Write(path, stream => data.SaveTo(stream));
        }
    }

    /// <summary>One image as C×H×W bytes, resized (bilinear, with mipmaps for shrinking).</summary>
    public static byte[] ReadResized(string path, int height, int width, int channels = 3)
    {
        using var decoded = SKBitmap.Decode(path)
            ?? throw new DataException($"{path}: not a readable JPEG or PNG image; remove or replace it.");
        using var resized = decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new DataException($"{path}: could not be resized to {width}×{height}.");
        var rgba = resized.Bytes;
        var result = new byte[channels * height * width];
        for (int p = 0; p < height * width; p++)
        {
            byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            if (channels == 1) result[p] = (byte)Math.Round(0.299 * r + 0.587 * g + 0.114 * b);
            else
            {
                result[p] = r;
                result[height * width + p] = g;
                result[2 * height * width + p] = b;
            }
        }
        return result;
    }

    /// <summary>One image at its own size as C×H×W bytes (RGB), with its height and width.</summary>
    public static (byte[] Pixels, int Height, int Width) Read(string path)
    {
        using var decoded = SKBitmap.Decode(path) ?? throw new DataException($"{path}: not a readable JPEG or PNG image.");
        return (ReadResized(path, decoded.Height, decoded.Width), decoded.Height, decoded.Width);
    }
}
