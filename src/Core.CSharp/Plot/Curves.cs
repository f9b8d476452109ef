namespace NeuralVision.Plot;

/// <summary>Line pictures of training: loss per step with a moving average.</summary>
public static class Curves
{
    /// <summary>Writes a PNG of per-step losses (faint) and their moving average over ~1% of the steps (bold).</summary>
    public static void Loss(string path, IReadOnlyList<double> losses, string title)
    {
        var plot = new ScottPlot.Plot();
        var steps = Enumerable.Range(1, losses.Count).Select(i => (double)i).ToArray();
        var raw = plot.Add.Scatter(steps, losses.ToArray());
        raw.MarkerSize = 0;
        raw.LineWidth = 1;
        raw.Color = ScottPlot.Colors.SteelBlue.WithAlpha(0.35);
        raw.LegendText = "loss per step";
        var smooth = plot.Add.Scatter(steps, MovingAverage(losses, Math.Max(1, losses.Count / 100)));
        smooth.MarkerSize = 0;
        smooth.LineWidth = 2;
        smooth.Color = ScottPlot.Colors.DarkBlue;
        smooth.LegendText = "moving average";
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        plot.ShowLegend();
        Save(plot, path, 800, 500);
    }

    /// <summary>The mean of each value and the (up to) <paramref name="window"/> − 1 values before it.</summary>
    public static double[] MovingAverage(IReadOnlyList<double> values, int window)
    {
        var result = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }

    /// <summary>Saves a plot as PNG, creating the folder.</summary>
    internal static void Save(ScottPlot.Plot plot, string path, int width, int height)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, width, height);
    }
}
