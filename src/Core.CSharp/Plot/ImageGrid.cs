using NeuralVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralVision.Plot;

/// <summary>Grids of images with captions, as one picture.</summary>
public static class ImageGrid
{
    /// <summary>
    /// Writes a PNG of images [N, C, H, W] (values 0..1; grey, or colour when C = 3) in rows of
    /// <paramref name="columns"/>, each with its caption; <paramref name="good"/> colours captions green (true) or red (false).
    /// </summary>
    public static void Samples(string path, Tensor images, IReadOnlyList<string> captions, IReadOnlyList<bool>? good = null, int columns = 8,
        IReadOnlyList<(Tensor Boxes, string Colour)>? boxes = null)
    {
        using var scope = NewDisposeScope();
        var pixels = images.detach().cpu().to_type(ScalarType.Float64);
        bool isColour = pixels.shape[1] == 3;
        var grey = pixels.mean([1L]);
        int count = (int)Math.Min(grey.shape[0], captions.Count), height = (int)grey.shape[1], width = (int)grey.shape[2];
        var values = grey.data<double>().ToArray();
        const int gap = 2, caption = 12;
        int rows = (count + columns - 1) / columns;
        int cellW = width + gap, cellH = height + gap + caption;
        var canvas = new double[rows * cellH, columns * cellW];
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < count; i++)
        {
            int top = (i / columns) * cellH + caption, left = (i % columns) * cellW;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    canvas[top + y, left + x] = Math.Clamp(values[(i * height + y) * width + x], 0, 1);
            var label = plot.Add.Text(captions[i], left + width / 2.0, canvas.GetLength(0) - (top - caption / 2.0));
            label.LabelFontSize = 9;
            label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
            label.LabelFontColor = good is null ? ScottPlot.Colors.White : good[i] ? ScottPlot.Colors.LimeGreen : ScottPlot.Colors.OrangeRed;
        }
        // Boxes [N, 5] (presence, cx, cy, w, h relative) drawn on their images.
        foreach (var (set, colour) in boxes ?? [])
        {
            var b = set.detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            for (int i = 0; i < count; i++)
            {
                if (b[5 * i] < 0.5) continue;
                int top = (i / columns) * cellH + caption, left = (i % columns) * cellW;
                double x0 = left + (b[5 * i + 1] - b[5 * i + 3] / 2) * width, x1 = left + (b[5 * i + 1] + b[5 * i + 3] / 2) * width;
                double y0 = top + (b[5 * i + 2] - b[5 * i + 4] / 2) * height, y1 = top + (b[5 * i + 2] + b[5 * i + 4] / 2) * height;
                var rect = plot.Add.Rectangle(x0, x1, canvas.GetLength(0) - y1, canvas.GetLength(0) - y0);
                rect.FillStyle.Color = ScottPlot.Colors.Transparent;
                rect.LineStyle.Color = ScottPlot.Color.FromHex(colour);
                rect.LineStyle.Width = 2;
            }
        }
        var extent = new ScottPlot.CoordinateRect(0, canvas.GetLength(1), 0, canvas.GetLength(0));
        if (isColour)
        {
            // RGB images as they are: a bitmap of the same grid, drawn under the captions and boxes.
            var rgb = pixels.data<double>().ToArray();
            int plane = height * width;
            using var bitmap = new SkiaSharp.SKBitmap(canvas.GetLength(1), canvas.GetLength(0));
            bitmap.Erase(SkiaSharp.SKColors.Black);
            for (int i = 0; i < count; i++)
            {
                int top = (i / columns) * cellH + caption, left = (i % columns) * cellW;
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        byte Channel(int c) => (byte)Math.Round(255 * Math.Clamp(rgb[(i * 3 + c) * plane + y * width + x], 0, 1));
                        bitmap.SetPixel(left + x, top + y, new SkiaSharp.SKColor(Channel(0), Channel(1), Channel(2)));
                    }
            }
            var image = plot.Add.ImageRect(new ScottPlot.Image(bitmap), extent);
            plot.MoveToBack(image);
        }
        else
        {
            var heatmap = plot.Add.Heatmap(canvas);
            heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
            heatmap.Extent = extent;
            plot.MoveToBack(heatmap);
        }
        plot.Axes.SetLimits(0, canvas.GetLength(1), 0, canvas.GetLength(0));
        plot.HideGrid();
        plot.Layout.Frameless();
        plot.FigureBackground.Color = ScottPlot.Colors.Black;
        int scale = Math.Max(2, 160 / Math.Max(height, 1));
        Curves.Save(plot, path, columns * cellW * scale, rows * cellH * scale);
    }

    /// <summary>
    /// Writes a PNG of the first <paramref name="count"/> images of a set, each captioned with its predicted
    /// class, green when right and red (with the true class) when wrong.
    /// </summary>
    public static void Predictions(string path, ImageSet images, IReadOnlyList<int> predicted, int count)
    {
        var subset = images.Take(Math.Min(count, predicted.Count));
        var (pixels, labels) = subset.ToTensors();
        using (pixels)
        using (labels)
        {
            var right = Enumerable.Range(0, subset.Count).Select(i => predicted[i] == subset.Labels[i]).ToArray();
            var captions = Enumerable.Range(0, subset.Count)
                .Select(i => right[i] ? subset.Classes[predicted[i]] : $"{subset.Classes[predicted[i]]} ({subset.Classes[subset.Labels[i]]})").ToArray();
            Samples(path, pixels, captions, right);
        }
    }
}
