namespace NeuralVision.Plot;

/// <summary>One named line of a chart.</summary>
/// <param name="Name">The legend text.</param>
/// <param name="X">The x values.</param>
/// <param name="Y">The y values.</param>
public sealed record Series(string Name, double[] X, double[] Y);

/// <summary>The charts the examples draw: lines, scatter over decision regions, contours with paths.</summary>
public static class Charts
{
    /// <summary>Lines (with markers when <paramref name="markers"/>), on a log y axis when <paramref name="logY"/>.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logY = false, bool markers = false)
    {
        var plot = new ScottPlot.Plot();
        foreach (var s in series)
        {
            var ys = logY ? s.Y.Select(v => Math.Log10(Math.Max(v, 1e-300))).ToArray() : s.Y;
            var line = plot.Add.Scatter(s.X, ys);
            line.LegendText = s.Name;
            line.MarkerSize = markers ? 5 : 0;
            line.LineWidth = 2;
        }
        if (logY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => $"1e{v:0}", IntegerTicksOnly = true };
            yLabel += " (log scale)";
        }
        // An axis that counts (epochs, layers, steps) gets whole-number ticks.
        if (series.All(s => s.X.All(x => x == Math.Round(x))))
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        // Beside the plot, not over it: a legend must not hide data.
        plot.ShowLegend(ScottPlot.Edge.Right);
        Curves.Save(plot, path, 900, 560);
    }

    /// <summary>
    /// Points coloured by class over the regions a classifier assigns: <paramref name="classify"/> maps grid points [n, 2] to
    /// their classes; <paramref name="points"/> are (x, y, class).
    /// </summary>
    public static void Regions(string path, string title, string xLabel, string yLabel, Func<double[,], int[]> classify,
        IReadOnlyList<(double X, double Y, int Class)> points, int resolution = 200)
    {
        double x0 = points.Min(p => p.X), x1 = points.Max(p => p.X), y0 = points.Min(p => p.Y), y1 = points.Max(p => p.Y);
        double padX = (x1 - x0) * 0.05, padY = (y1 - y0) * 0.05;
        x0 -= padX; x1 += padX; y0 -= padY; y1 += padY;
        var grid = new double[resolution * resolution, 2];
        for (int i = 0; i < resolution; i++)
            for (int j = 0; j < resolution; j++)
            {
                grid[i * resolution + j, 0] = x0 + (x1 - x0) * (j + 0.5) / resolution;
                grid[i * resolution + j, 1] = y1 - (y1 - y0) * (i + 0.5) / resolution;
            }
        var classes = classify(grid);
        var palette = new ScottPlot.Palettes.Category10();
        var heat = new double[resolution, resolution];
        for (int i = 0; i < resolution; i++)
            for (int j = 0; j < resolution; j++)
                heat[i, j] = classes[i * resolution + j] + 0.5;
        var plot = new ScottPlot.Plot();
        var map = plot.Add.Heatmap(heat);
        // Each region in its class's point colour: class k sits at k + 0.5 of the range [0, n], which a
        // hard-edged palette of n + 1 colours maps to colour k.
        var classCount = Math.Max(classes.Max(), points.Max(p => p.Class)) + 1;
        map.Colormap = new ScottPlot.Colormaps.CustomPalette(
            Enumerable.Range(0, classCount + 1).Select(k => palette.GetColor(Math.Min(k, classCount - 1))).ToArray(), "classes");
        map.ManualRange = new ScottPlot.Range(0, classCount);
        map.Extent = new ScottPlot.CoordinateRect(x0, x1, y0, y1);
        map.Opacity = 0.35;
        foreach (var group in points.GroupBy(p => p.Class).OrderBy(g => g.Key))
        {
            var s = plot.Add.ScatterPoints(group.Select(p => p.X).ToArray(), group.Select(p => p.Y).ToArray());
            s.LegendText = $"class {group.Key}";
            s.Color = palette.GetColor(group.Key);
            s.MarkerSize = 6;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        Curves.Save(plot, path, 800, 640);
    }

    /// <summary>Points (x, y) coloured by class, with a legend of class names.</summary>
    public static void Scatter(string path, string title, IReadOnlyList<(double X, double Y, int Class)> points, IReadOnlyList<string> classNames)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var group in points.GroupBy(p => p.Class).OrderBy(g => g.Key))
        {
            var s = plot.Add.ScatterPoints(group.Select(p => p.X).ToArray(), group.Select(p => p.Y).ToArray());
            s.LegendText = group.Key < classNames.Count ? classNames[group.Key] : $"class {group.Key}";
            s.Color = palette.GetColor(group.Key).WithAlpha(0.6);
            s.MarkerSize = 3;
        }
        plot.Title(title);
        plot.ShowLegend();
        Curves.Save(plot, path, 900, 720);
    }

    /// <summary>
    /// Contours of f over [x0, x1]×[y0, y1] (shaded and as lines, at log-spaced levels) with optimisation paths drawn
    /// on them and, when given, the minimum marked. A path that leaves the box or diverges says so in the legend.
    /// </summary>
    // RS0027 wants the optional parameter on the longest overload; that would change this shipped signature. The
    // overload with the minimum has no optional parameters, so no call is ambiguous.
#pragma warning disable RS0027
    public static void Contours(string path, string title, Func<double, double, double> f, double x0, double x1, double y0, double y1,
        IReadOnlyList<(string Name, double[][] Path)> paths, int resolution = 160) =>
        Contours(path, title, f, x0, x1, y0, y1, paths, null, resolution);
#pragma warning restore RS0027

    /// <inheritdoc cref="Contours(string, string, Func{double, double, double}, double, double, double, double, IReadOnlyList{ValueTuple{string, double[][]}}, int)"/>
    public static void Contours(string path, string title, Func<double, double, double> f, double x0, double x1, double y0, double y1,
        IReadOnlyList<(string Name, double[][] Path)> paths, (double X, double Y)? minimum, int resolution)
    {
        var plot = new ScottPlot.Plot();
        double Level(double x, double y) => Math.Log10(1e-3 + f(x, y));
        var heat = new double[resolution, resolution];
        for (int i = 0; i < resolution; i++)
            for (int j = 0; j < resolution; j++)
                heat[i, j] = Level(x0 + (x1 - x0) * (j + 0.5) / resolution, y1 - (y1 - y0) * (i + 0.5) / resolution);
        var map = plot.Add.Heatmap(heat);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.Extent = new ScottPlot.CoordinateRect(x0, x1, y0, y1);
        map.Opacity = 0.6;
        const int lineGrid = 80;
        var levels = new ScottPlot.Coordinates3d[lineGrid, lineGrid];
        for (int i = 0; i < lineGrid; i++)
            for (int j = 0; j < lineGrid; j++)
            {
                double x = x0 + (x1 - x0) * j / (lineGrid - 1), y = y1 - (y1 - y0) * i / (lineGrid - 1);
                levels[i, j] = new ScottPlot.Coordinates3d(x, y, Level(x, y));
            }
        var lines = plot.Add.ContourLines(levels, 14);
        lines.LineColor = ScottPlot.Colors.White.WithAlpha(0.55);
        lines.LabelStyle.IsVisible = false;     // the levels are log10 values: lines show the shape, the shading the height
        var palette = new ScottPlot.Palettes.Category10();
        for (int k = 0; k < paths.Count; k++)
        {
            var all = paths[k].Path;
            var p = all.Where(pt => pt.All(double.IsFinite)).ToArray();
            bool diverged = p.Length < all.Length, left = p.Any(pt => pt[0] < x0 || pt[0] > x1 || pt[1] < y0 || pt[1] > y1);
            var line = plot.Add.Scatter(p.Select(pt => Math.Clamp(pt[0], x0, x1)).ToArray(), p.Select(pt => Math.Clamp(pt[1], y0, y1)).ToArray());
            line.LegendText = paths[k].Name + (diverged ? " (diverged)" : left ? " (leaves the plot)" : "");
            line.Color = palette.GetColor(k);
            line.MarkerSize = 2;
            line.LineWidth = 1.5f;
        }
        if (minimum is var (mx, my))
        {
            var marker = plot.Add.Marker(mx, my, ScottPlot.MarkerShape.FilledDiamond, 14, ScottPlot.Colors.Red);
            marker.LegendText = "minimum";
        }
        plot.Axes.SetLimits(x0, x1, y0, y1);
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Edge.Right);
        Curves.Save(plot, path, 960, 640);
    }

    /// <summary>
    /// A confusion matrix: counts[truth, predicted] as shaded cells with their numbers, true classes down the
    /// side and predicted ones along the bottom.
    /// </summary>
    public static void Confusion(string path, string title, int[,] counts, IReadOnlyList<string> classes)
    {
        int n = classes.Count;
        if (counts.GetLength(0) != n || counts.GetLength(1) != n)
            throw new ArgumentException($"the matrix is {counts.GetLength(0)}×{counts.GetLength(1)} but there are {n} classes", nameof(counts));
        var plot = new ScottPlot.Plot();
        // Each row shaded by its share of the row's images, so small classes are as readable as large ones.
        var shares = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            double row = Enumerable.Range(0, n).Sum(p => counts[t, p]);
            for (int p = 0; p < n; p++) shares[t, p] = row == 0 ? 0 : counts[t, p] / row;
        }
        var map = plot.Add.Heatmap(shares);
        // Blues runs from dark to light; reversed, an empty cell is white and a full one dark blue.
        map.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues());
        // The extent names the centres of the corner cells (ScottPlot centres cells on it): cell (t, p) centred on (p, n − 1 − t).
        map.Extent = new ScottPlot.CoordinateRect(0, n - 1, 0, n - 1);
        for (int t = 0; t < n; t++)
            for (int p = 0; p < n; p++)
            {
                var label = plot.Add.Text(counts[t, p].ToString(), p, n - 1 - t);
                label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
                label.LabelFontColor = shares[t, p] > 0.5 ? ScottPlot.Colors.White : ScottPlot.Colors.Black;
                label.LabelFontSize = n > 12 ? 10 : 14;
            }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, classes.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, classes.Reverse().ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = n > 4 ? 45 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = n > 4 ? ScottPlot.Alignment.MiddleLeft : ScottPlot.Alignment.UpperCenter;
        // Room below the matrix for the slanted class names.
        plot.Axes.Bottom.MinimumSize = n > 4 ? 110 : 40;
        plot.Axes.Bottom.Label.Text = "predicted class";
        plot.Axes.Left.Label.Text = "true class";
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Title(title);
        Curves.Save(plot, path, 760, 760);
    }
}
