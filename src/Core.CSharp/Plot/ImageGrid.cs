using NeuralVision.Data;

namespace NeuralVision.Plot;

/// <summary>Grids of images with their labels, as one picture.</summary>
public static class ImageGrid
{
    /// <summary>
    /// Writes a PNG of the first <paramref name="count"/> images, each captioned with its predicted
    /// class, green when right and red (with the true class) when wrong.
    /// </summary>
    public static void Predictions(string path, ImageSet images, IReadOnlyList<int> predicted, int count)
    {
        count = Math.Min(count, Math.Min(images.Count, predicted.Count));
        const int columns = 8, gap = 2, caption = 12;
        int rows = (count + columns - 1) / columns;
        int cellW = images.Width + gap, cellH = images.Height + gap + caption;
        var canvas = new double[rows * cellH, columns * cellW];
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < count; i++)
        {
            int top = (i / columns) * cellH + caption, left = (i % columns) * cellW;
            for (int y = 0; y < images.Height; y++)
                for (int x = 0; x < images.Width; x++)
                    canvas[top + y, left + x] = images.Pixels[(i * images.Height + y) * images.Width + x] / 255.0;
            bool right = predicted[i] == images.Labels[i];
            var text = right ? images.Classes[predicted[i]] : $"{images.Classes[predicted[i]]} ({images.Classes[images.Labels[i]]})";
            var label = plot.Add.Text(text, left + images.Width / 2.0, canvas.GetLength(0) - (top - caption / 2.0));
            label.LabelFontSize = 9;
            label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
            label.LabelFontColor = right ? ScottPlot.Colors.LimeGreen : ScottPlot.Colors.OrangeRed;
        }
        var heatmap = plot.Add.Heatmap(canvas);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        heatmap.Extent = new ScottPlot.CoordinateRect(0, canvas.GetLength(1), 0, canvas.GetLength(0));
        plot.MoveToBack(heatmap);
        plot.Axes.SetLimits(0, canvas.GetLength(1), 0, canvas.GetLength(0));
        plot.HideGrid();
        plot.Layout.Frameless();
        plot.FigureBackground.Color = ScottPlot.Colors.Black;
        Curves.Save(plot, path, columns * cellW * 5, rows * cellH * 5);
    }
}
