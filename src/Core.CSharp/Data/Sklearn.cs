namespace NeuralVision.Data;

/// <summary>
/// The small data sets and photos bundled with scikit-learn, taken from its Debian package
/// (python3-sklearn, extracted, not installed; no Python needed) or its source repository.
/// </summary>
public static class Sklearn
{
    /// <summary>Where the files come from; content hashes of the files (gunzipped where gzipped).</summary>
    public static readonly DataSetSpec Spec = new(
        Name: "sklearn",
        Files:
        [
            new("data/wine_data.csv", "10e8a802908b34f86e5da8ce962f3c806694bc98450a18f61851af59f324bede"),
            new("data/iris.csv", "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"),
            new("data/digits.csv.gz", "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"),
            new("data/breast_cancer.csv", "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed"),
            new("images/china.jpg", "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29"),
            new("images/flower.jpg", "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638"),
        ],
        SystemDirectories: ["/usr/lib/python3/dist-packages/sklearn/datasets"],
        Packages: [new(PackageKind.Debian, "python3-sklearn", "usr/lib/python3/dist-packages/sklearn/datasets")],
        BaseUrls: ["https://raw.githubusercontent.com/scikit-learn/scikit-learn/1.2.1/sklearn/datasets/"]);

    static string File(string name) => Path.Combine(Provisioning.Ensure(Spec), name);

    /// <summary>Wine: 178 wines of 3 cultivars, 13 chemical measurements.</summary>
    public static Table Wine() => Csv.ReadSklearn(File("data/wine_data.csv"),
        ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
         "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline"]);

    /// <summary>Iris: 150 flowers of 3 species, 4 measurements.</summary>
    public static Table Iris() => Csv.ReadSklearn(File("data/iris.csv"),
        ["sepal_length", "sepal_width", "petal_length", "petal_width"]);

    /// <summary>Digits: 1,797 hand-written digits as 8×8 images with values 0–16.</summary>
    public static Table Digits() => Csv.ReadSklearn(File("data/digits.csv.gz"),
        Enumerable.Range(0, 64).Select(i => $"pixel_{i / 8}_{i % 8}").ToArray(),
        Enumerable.Range(0, 10).Select(d => d.ToString()).ToArray());

    /// <summary>Breast cancer (Wisconsin): 569 tumours, 30 features, malignant or benign.</summary>
    public static Table BreastCancer() => Csv.ReadSklearn(File("data/breast_cancer.csv"));

    /// <summary>The path of a bundled photo: <c>china.jpg</c> or <c>flower.jpg</c> (427×640 RGB).</summary>
    public static string Photo(string name) => File("images/" + name);
}
