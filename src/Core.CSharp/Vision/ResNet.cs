using NeuralVision.Layers;

namespace NeuralVision.Vision;

/// <summary>
/// ResNet-18/34 (basic blocks) and ResNet-50 (bottleneck blocks) as torchvision defines them, named as
/// torchvision names them (conv1, bn1, layer1.0.conv1, …, fc) so that state dicts map by name.
/// ResNet-18: 11,689,512 parameters; ResNet-34: 21,797,672; ResNet-50: 25,557,032.
/// </summary>
public static class ResNet
{
    /// <summary>conv 3×3 → BN → ReLU → conv 3×3 → BN, added to the (projected) input, then ReLU.</summary>
    public static Layer Basic(int channels, int stride, bool project) =>
        Net.Residual(
            Net.Named("conv1", Net.Conv2d(channels, 3, stride: stride, padding: 1, bias: false))
               .Then(Net.Named("bn1", Net.BatchNorm2d())).ReLU()
               .Then(Net.Named("conv2", Net.Conv2d(channels, 3, padding: 1, bias: false)))
               .Then(Net.Named("bn2", Net.BatchNorm2d())),
            project ? Projection(channels, stride) : null)
           .ReLU();

    /// <summary>conv 1×1 → 3×3 (with the stride) → 1×1 to 4× the width, with BN, added to the (projected) input, then ReLU.</summary>
    public static Layer Bottleneck(int width, int stride, bool project) =>
        Net.Residual(
            Net.Named("conv1", Net.Conv2d(width, 1, bias: false)).Then(Net.Named("bn1", Net.BatchNorm2d())).ReLU()
               .Then(Net.Named("conv2", Net.Conv2d(width, 3, stride: stride, padding: 1, bias: false))).Then(Net.Named("bn2", Net.BatchNorm2d())).ReLU()
               .Then(Net.Named("conv3", Net.Conv2d(4 * width, 1, bias: false))).Then(Net.Named("bn3", Net.BatchNorm2d())),
            project ? Projection(4 * width, stride) : null)
           .ReLU();

    static Layer Projection(int channels, int stride) =>
        Net.Named("0", Net.Conv2d(channels, 1, stride: stride, bias: false)).Then(Net.Named("1", Net.BatchNorm2d()));

    /// <summary>The stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool) and four stages, without pooling or head.</summary>
    public static Layer Backbone(int[] blocks, bool bottleneck)
    {
        var stem = Net.Named("conv1", Net.Conv2d(64, 7, stride: 2, padding: 3, bias: false))
            .Then(Net.Named("bn1", Net.BatchNorm2d())).Then(Net.Named("relu", Net.ReLU())).Then(Net.Named("maxpool", Net.MaxPool(3, 2, 1)));
        int inChannels = 64;
        Layer body = stem;
        for (int stage = 0; stage < 4; stage++)
        {
            int width = 64 << stage;
            var layers = Enumerable.Range(0, blocks[stage]).Select(i =>
            {
                int stride = i == 0 && stage > 0 ? 2 : 1;
                int outChannels = bottleneck ? 4 * width : width;
                bool project = i == 0 && (stride != 1 || inChannels != outChannels);
                inChannels = outChannels;
                return Net.Named(i.ToString(), bottleneck ? Bottleneck(width, stride, project) : Basic(width, stride, project));
            }).ToArray();
            body = body.Then(Net.Named($"layer{stage + 1}", Net.Sequence(layers)));
        }
        return body;
    }

    /// <summary>A ResNet: backbone, global average pool, fully connected head named fc.</summary>
    public static Layer Create(int[] blocks, bool bottleneck, int classes = 1000) =>
        Backbone(blocks, bottleneck).Then(Net.Named("avgpool", Net.AdaptiveAvgPool(1, 1))).Then(Net.Named("flatten", Net.Flatten()))
            .Then(Net.Named("fc", Net.Linear(classes)));

    /// <summary>
    /// The torchvision name of one of our ResNet parameter names: a block here is a residual plus its
    /// ReLU, so <c>layer1.0.0.body.conv1.weight</c> is torchvision's <c>layer1.0.conv1.weight</c> and
    /// <c>layer2.0.0.projection.0.weight</c> its <c>layer2.0.downsample.0.weight</c>. For <see cref="Training.Checkpoint.LoadPyTorch"/>.
    /// </summary>
    public static string TorchvisionName(string name) =>
        name.Replace(".0.body.", ".").Replace(".0.projection.", ".downsample.");

    /// <summary>ResNet-18.</summary>
    public static Layer ResNet18(int classes = 1000) => Create([2, 2, 2, 2], false, classes);
    /// <summary>ResNet-34.</summary>
    public static Layer ResNet34(int classes = 1000) => Create([3, 4, 6, 3], false, classes);
    /// <summary>ResNet-50.</summary>
    public static Layer ResNet50(int classes = 1000) => Create([3, 4, 6, 3], true, classes);
}
