using NeuralVision.Layers;

namespace NeuralVision.Vision;

/// <summary>The course's architectures by name, with the input each expects by default.</summary>
public static class Architectures
{
    /// <summary>Name → (layer for a class count, default input shape).</summary>
    public static readonly IReadOnlyDictionary<string, (Func<int, Layer> Create, long[] Input)> All =
        new Dictionary<string, (Func<int, Layer>, long[])>
        {
            ["lenet"] = (c => LeNet.Classic(c), [1, 28, 28]),
            ["lenet-bn"] = (c => LeNet.Classic(c, batchNorm: true), [1, 28, 28]),
            ["lenet-relu"] = (c => LeNet.Modern(c), [1, 28, 28]),
            ["lenet-relu-bn"] = (c => LeNet.Modern(c, batchNorm: true), [1, 28, 28]),
            ["alexnet"] = (c => AlexNet.Create(c), [3, 224, 224]),
            ["vgg11"] = (c => Vgg.Create(Vgg.Vgg11, c), [3, 224, 224]),
            ["vgg11-bn"] = (c => Vgg.Create(Vgg.Vgg11, c, batchNorm: true), [3, 224, 224]),
            ["vgg16"] = (c => Vgg.Create(Vgg.Vgg16, c), [3, 224, 224]),
            ["vgg16-bn"] = (c => Vgg.Create(Vgg.Vgg16, c, batchNorm: true), [3, 224, 224]),
            ["googlenet"] = (c => GoogLeNet.Create(c, auxHeads: false), [3, 224, 224]),
            ["googlenet-aux"] = (c => GoogLeNet.Create(c), [3, 224, 224]),
            ["resnet18"] = (c => ResNet.ResNet18(c), [3, 224, 224]),
            ["resnet34"] = (c => ResNet.ResNet34(c), [3, 224, 224]),
            ["resnet50"] = (c => ResNet.ResNet50(c), [3, 224, 224]),
        };

    /// <summary>The layer for <paramref name="name"/>, or an error listing the names.</summary>
    public static (Layer Layer, long[] Input) Get(string name, int classes) =>
        All.TryGetValue(name.ToLowerInvariant(), out var entry) ? (entry.Create(classes), entry.Input)
            : throw new ArgumentException($"unknown model '{name}'; known: {string.Join(", ", All.Keys)}.");
}
