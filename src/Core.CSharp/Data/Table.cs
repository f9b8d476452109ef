using System.Globalization;
using NeuralVision.Native;
using TorchSharp;

namespace NeuralVision.Data;

/// <summary>A table of numeric features with one class (or value) target per row.</summary>
/// <param name="Features">Rows × features, row-major.</param>
/// <param name="Rows">The number of rows.</param>
/// <param name="FeatureNames">One name per feature column.</param>
/// <param name="Targets">The target of each row (a class index for classification).</param>
/// <param name="Classes">Class names, indexed by target; empty for regression targets.</param>
public sealed record Table(double[] Features, int Rows, IReadOnlyList<string> FeatureNames, double[] Targets, IReadOnlyList<string> Classes)
{
    /// <summary>The number of feature columns.</summary>
    public int Width => FeatureNames.Count;

    /// <summary>Features as float32 [rows, features]; targets as int64 class indices (classification) or float32 [rows, 1].</summary>
    public TensorData ToData()
    {
        TorchNative.EnsureLoaded();
        var x = torch.tensor(Features.Select(v => (float)v).ToArray(), [Rows, Width]);
        var y = Classes.Count > 0
            ? torch.tensor(Targets.Select(t => (long)t).ToArray())
            : torch.tensor(Targets.Select(t => (float)t).ToArray(), [Rows, 1L]);
        return new TensorData(x, y);
    }

    /// <summary>The table with only the named (or numbered) feature columns, in that order.</summary>
    public Table Select(params string[] columns)
    {
        var index = columns.Select(c =>
        {
            var i = FeatureNames.ToList().IndexOf(c);
            return i >= 0 ? i : int.TryParse(c, out var n) && n >= 0 && n < Width ? n
                : throw new ArgumentException($"no feature column '{c}'; the columns are: {string.Join(", ", FeatureNames)}.");
        }).ToArray();
        var features = new double[Rows * index.Length];
        for (int r = 0; r < Rows; r++)
            for (int j = 0; j < index.Length; j++)
                features[r * index.Length + j] = Features[r * Width + index[j]];
        return this with { Features = features, FeatureNames = index.Select(i => FeatureNames[i]).ToArray() };
    }
}

/// <summary>Reads CSV tables with a target column. Errors name the file, the line and the column.</summary>
public static class Csv
{
    /// <summary>
    /// Reads a CSV file (plain or gzipped) with a header row of column names. <paramref name="target"/>
    /// names the target column; when <paramref name="classes"/> is true its values are class labels
    /// (numbers or names, mapped to indices in order of appearance).
    /// </summary>
    public static Table Read(string path, string target, bool classes = true) => Parse(Text(path), path, target, classes);

    /// <summary>Parses CSV text as <see cref="Read"/> does; <paramref name="path"/> names it in errors.</summary>
    public static Table Parse(string text, string path, string target, bool classes = true)
    {
        var lines = Lines(text);
        if (lines.Count == 0) throw new DataException($"{path}: the file is empty; a header row of column names is needed.");
        var header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
        var targetIndex = Array.IndexOf(header, target);
        if (targetIndex < 0) throw new DataException($"{path}, line 1: no column '{target}' in the header ({string.Join(", ", header)}).");
        var featureNames = header.Where((_, i) => i != targetIndex).ToArray();
        var classNames = new List<string>();
        var rows = Rows(path, lines, 1, header.Length, (cells, line) =>
        {
            var features = cells.Where((_, i) => i != targetIndex).Select((c, i) => Number(path, line, i >= targetIndex ? i + 2 : i + 1, c)).ToArray();
            double y;
            if (classes)
            {
                var label = cells[targetIndex].Trim();
                if (!classNames.Contains(label)) classNames.Add(label);
                y = classNames.IndexOf(label);
            }
            else y = Number(path, line, targetIndex + 1, cells[targetIndex]);
            return (features, y);
        });
        return new Table(rows.SelectMany(r => r.features).ToArray(), rows.Count, featureNames, rows.Select(r => r.y).ToArray(), classes ? classNames : []);
    }

    /// <summary>
    /// Reads scikit-learn's bundled format: a first line <c>rows,features,class names…</c> (or no header),
    /// then rows of features with the class index last.
    /// </summary>
    public static Table ReadSklearn(string path, IReadOnlyList<string>? featureNames = null, IReadOnlyList<string>? classNames = null) =>
        ParseSklearn(Text(path), path, featureNames, classNames);

    /// <summary>Parses scikit-learn's format as <see cref="ReadSklearn"/> does.</summary>
    public static Table ParseSklearn(string text, string path, IReadOnlyList<string>? featureNames = null, IReadOnlyList<string>? classNames = null)
    {
        var lines = Lines(text);
        if (lines.Count == 0) throw new DataException($"{path}: the file is empty.");
        var first = lines[0].Split(',');
        bool hasHeader = first.Length >= 2 && first.Skip(2).Any(c => !double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        int start = hasHeader ? 1 : 0;
        if (lines.Count <= start) throw new DataException($"{path}: a header but no data rows; an empty data set cannot be used.");
        int width = lines[start].Split(',').Length;
        var rows = Rows(path, lines, start, width, (cells, line) =>
            (cells[..^1].Select((c, i) => Number(path, line, i + 1, c)).ToArray(), Number(path, line, width, cells[^1])));
        if (hasHeader && int.TryParse(first[0], out var promised) && promised != rows.Count)
            throw new DataException($"{path}, line 1: the header promises {promised} rows, the file has {rows.Count}; it is truncated or damaged.");
        var classes = classNames ?? (hasHeader ? first.Skip(2).ToArray() : rows.Select(r => r.Item2).Distinct().Order().Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray());
        var names = featureNames ?? Enumerable.Range(0, width - 1).Select(i => $"x{i}").ToArray();
        return new Table(rows.SelectMany(r => r.Item1).ToArray(), rows.Count, names, rows.Select(r => r.Item2).ToArray(), classes);
    }

    static string Text(string path) =>
        File.Exists(path) ? System.Text.Encoding.UTF8.GetString(Idx.ReadMaybeGzipped(path)) : throw new DataException($"{path}: file not found.");

    static List<string> Lines(string text) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();

    static List<T> Rows<T>(string path, List<string> lines, int start, int width, Func<string[], int, T> parse)
    {
        var rows = new List<T>();
        for (int i = start; i < lines.Count; i++)
        {
            var cells = lines[i].Split(',');
            if (cells.Length != width)
                throw new DataException($"{path}, line {i + 1}: {cells.Length} cells where the table has {width} columns (a ragged row).");
            rows.Add(parse(cells, i + 1));
        }
        if (rows.Count == 0) throw new DataException($"{path}: no data rows; an empty data set cannot be used.");
        return rows;
    }

    static double Number(string path, int line, int column, string cell) =>
        double.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new DataException($"{path}, line {line}, column {column}: '{cell.Trim()}' is not a number.");
}
