using NeuralVision.Layers;
using static TorchSharp.torch;

namespace NeuralVision.Vision;

/// <summary>
/// ImageNet-pretrained weights available offline: the ResNet-18 backbone that the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 carries as ONNX (downloaded by the build into the
/// NuGet package folder), read into a DSL model.
/// </summary>
public static class Pretrained
{
    const string Package = "microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels";

    /// <summary>Where the package's models are: <c>$NUGET_PACKAGES</c> or ~/.nuget/packages.</summary>
    public static string ModelFolder
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var folder = Path.Combine(root, Package);
            return Directory.Exists(folder) ? folder
                : throw new OnnxImportException($"the pretrained ResNet-18 is not in {folder}; restore the project (dotnet restore) so that NuGet downloads Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1.");
        }
    }

    /// <summary>The backbone's ONNX file: input Input247 1×3×224×224 (BGR, mean image subtracted), output 1×512×1×1.</summary>
    public static string ResNet18OnnxPath => Path.Combine(ModelFolder, "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The package's preprocessing ONNX: RGB 0..255 → BGR minus the ImageNet mean image.</summary>
    public static string PreprocessOnnxPath => Path.Combine(ModelFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>The per-channel means (R, G, B order) of the package's mean image, for inputs of any size.</summary>
    public static double[] ChannelMeans()
    {
        var model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(PreprocessOnnxPath));
        var mean = model.Graph.Initializer.First(i => i.Name == "MeanImage").FloatData.ToArray();
        int plane = mean.Length / 3;
        // The mean image is in BGR order; return R, G, B.
        return new[] { 2, 1, 0 }.Select(c => mean.Skip(c * plane).Take(plane).Average(v => (double)v)).ToArray();
    }

    /// <summary>
    /// The preprocessing as a layer: RGB images in 0..1 become BGR in 0..255 minus the per-channel ImageNet means,
    /// what the pretrained backbone was trained on.
    /// </summary>
    public static Layer Preprocess()
    {
        var means = ChannelMeans();
        var bgrMeans = new[] { means[2], means[1], means[0] };
        return Net.Lambda("imagenetBgr", x =>
        {
            using var scope = NewDisposeScope();
            using var mean = tensor(bgrMeans, dtype: x.dtype, device: x.device).view(1, 3, 1, 1);
            return x.flip(1).mul(255).sub(mean).MoveToOuterDisposeScope();
        });
    }

    /// <summary>The pretrained ResNet-18 backbone (conv1 … layer4, global average pool) read from ONNX, as an import.</summary>
    public static OnnxImport ResNet18Backbone() => OnnxImport.Read(ResNet18OnnxPath);

    /// <summary>
    /// A classifier for <paramref name="classes"/> classes on RGB images (0..1) of shape <paramref name="input"/>:
    /// ImageNet preprocessing, the pretrained backbone, then flatten and a new linear head named <c>fc</c>.
    /// </summary>
    public static Model ResNet18Classifier(int classes, Shape input)
    {
        var backbone = ResNet18Backbone();
        // The graph ends in a 7×7 average pool made for 224×224 inputs; an adaptive pool takes its place.
        var features = backbone.Layer is Sequence { Layers: [.., Pool2d { Kind: PoolKind.Average }] } s
            ? s[..^1]
            : throw new OnnxImportException("the ResNet-18 graph no longer ends in its average pool; update Pretrained.ResNet18Classifier.");
        // The preprocessing as a fixed 1×1 convolution (channel flip, ×255, minus the means): the same arithmetic as
        // Preprocess(), but a layer ONNX export knows, so a fine-tuned model can be served from model.onnx.
        var net = Net.Named("preprocess", Net.Conv2d(3, 1))
            .Then(Net.Named("backbone", features))
            .Then(Net.Named("pool", Net.AdaptiveAvgPool(1, 1)))
            .Then(Net.Named("flatten", Net.Flatten()))
            .Then(Net.Named("fc", Net.Linear(classes)));
        var model = Model.Build(net, input);
        // Load the backbone's weights into the rows under "backbone".
        var backboneModel = Model.Build(features, input, CPU);
        backbone.Load(backboneModel);
        Transfer.CopyMatchingPrefixed(backboneModel, model, "backbone.");
        SetPreprocessing(model);
        return model;
    }

    /// <summary>Sets the "preprocess" 1×1 convolution to RGB 0..1 → BGR 0..255 minus ImageNet's means, and freezes it.</summary>
    static void SetPreprocessing(Model model)
    {
        var means = ChannelMeans();
        var weight = new float[3 * 3];
        var bias = new float[3];
        for (int c = 0; c < 3; c++)
        {
            weight[c * 3 + (2 - c)] = 255f;        // output channel c (B, G, R) reads input channel 2 − c (R, G, B)
            bias[c] = -(float)means[2 - c];
        }
        var parameters = model.Parameters.Where(p => p.Path.StartsWith("preprocess.", StringComparison.Ordinal)).ToList();
        using (no_grad())
        {
            parameters.Single(p => p.Path.EndsWith("weight", StringComparison.Ordinal)).Value
                .copy_(tensor(weight, dtype: ScalarType.Float32).view(3, 3, 1, 1));
            parameters.Single(p => p.Path.EndsWith("bias", StringComparison.Ordinal)).Value.copy_(tensor(bias, dtype: ScalarType.Float32));
        }
        model.FreezeInPlace("preprocess");
    }
}
