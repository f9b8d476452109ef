namespace NeuralVision.Data;

/// <summary>Zalando's Fashion-MNIST: 60,000 training and 10,000 test 28×28 grey images of 10 kinds of clothing.</summary>
public static class FashionMnist
{
    /// <summary>The class names, indexed by label.</summary>
    public static readonly IReadOnlyList<string> Classes =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Where the files come from; content hashes are of the gunzipped IDX files.</summary>
    public static readonly DataSetSpec Spec = new(
        Name: "fashion-mnist",
        Files:
        [
            new("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            new("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            new("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            new("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ],
        SystemDirectories: ["/usr/share/datasets/fashion-mnist"],
        Packages: [new(PackageKind.Debian, "dataset-fashion-mnist", "usr/share/datasets/fashion-mnist")],
        BaseUrls: ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]);

    /// <summary>Loads both parts, fetching the files first if they are not on this machine.</summary>
    public static TrainTest Load(IProgress<ProvisionProgress>? progress = null)
    {
        var dir = Provisioning.Ensure(Spec, progress);
        string At(int i) => Path.Combine(dir, Spec.Files[i].Name);
        return new TrainTest(ImageSet.FromIdx(At(0), At(1), Classes), ImageSet.FromIdx(At(2), At(3), Classes));
    }
}
