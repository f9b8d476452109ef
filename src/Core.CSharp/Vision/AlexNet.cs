using NeuralVision.Layers;

namespace NeuralVision.Vision;

/// <summary>AlexNet as torchvision defines it (61,100,840 parameters at 1,000 classes, 3×224×224 input).</summary>
public static class AlexNet
{
    /// <summary>Five convolutions with max-pooling, adaptive pooling to 6×6, three fully connected layers with dropout.</summary>
    public static Layer Create(int classes = 1000, double dropout = 0.5) =>
        Net.Named("features",
                Net.Conv2d(64, 11, stride: 4, padding: 2).ReLU().MaxPool(3, 2)
                   .Conv2d(192, 5, padding: 2).ReLU().MaxPool(3, 2)
                   .Conv2d(384, 3, padding: 1).ReLU()
                   .Conv2d(256, 3, padding: 1).ReLU()
                   .Conv2d(256, 3, padding: 1).ReLU().MaxPool(3, 2))
           .Then(Net.Named("avgpool", Net.AdaptiveAvgPool(6, 6)))
           .Then(Net.Named("flatten", Net.Flatten()))
           .Then(Net.Named("classifier",
                Net.Dropout(dropout).Linear(4096).ReLU()
                   .Dropout(dropout).Linear(4096).ReLU()
                   .Linear(classes)));
}
