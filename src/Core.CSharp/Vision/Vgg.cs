using NeuralVision.Layers;

namespace NeuralVision.Vision;

/// <summary>VGG-11 and VGG-16, with or without BatchNorm, as torchvision defines them (VGG-16: 138,357,544 parameters).</summary>
public static class Vgg
{
    /// <summary>Output channels per 3×3 convolution; 0 marks a 2×2 max-pool.</summary>
    public static readonly int[] Vgg11 = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
    /// <summary>VGG-16's configuration ("D").</summary>
    public static readonly int[] Vgg16 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    /// <summary>A VGG of the given configuration.</summary>
    public static Layer Create(int[] configuration, int classes = 1000, bool batchNorm = false, double dropout = 0.5)
    {
        var features = configuration
            .Select(c => c == 0 ? Net.MaxPool(2) : Net.Conv2d(c, 3, padding: 1).Then(batchNorm ? Net.BatchNorm2d() : Net.Identity()).ReLU())
            .Aggregate(Pipelines.Then);
        return Net.Named("features", features)
            .Then(Net.Named("avgpool", Net.AdaptiveAvgPool(7, 7)))
            .Then(Net.Named("flatten", Net.Flatten()))
            .Then(Net.Named("classifier",
                Net.Linear(4096).ReLU().Dropout(dropout)
                   .Linear(4096).ReLU().Dropout(dropout)
                   .Linear(classes)));
    }
}
