using NeuralVision.Layers;

namespace NeuralVision.Vision;

/// <summary>LeNet-5 in the course's two versions, each optionally with BatchNorm.</summary>
public static class LeNet
{
    /// <summary>
    /// The course's LeNet-5 on 28×28: conv 6@5×5 padding 2, tanh, avg-pool, conv 16@5×5, tanh, avg-pool,
    /// 120, 84, classes (61,706 parameters at 10 classes).
    /// </summary>
    public static Layer Classic(int classes = 10, bool batchNorm = false) =>
        Net.Conv2d(6, 5, padding: 2).Then(Norm2d(batchNorm)).Tanh().AvgPool(2)
           .Conv2d(16, 5).Then(Norm2d(batchNorm)).Tanh().AvgPool(2)
           .Flatten().Linear(120).Then(Norm1d(batchNorm)).Tanh()
           .Linear(84).Then(Norm1d(batchNorm)).Tanh()
           .Linear(classes);

    /// <summary>The modern variant: ReLU and max-pooling in place of tanh and average pooling.</summary>
    public static Layer Modern(int classes = 10, bool batchNorm = false) =>
        Net.Conv2d(6, 5, padding: 2).Then(Norm2d(batchNorm)).ReLU().MaxPool(2)
           .Conv2d(16, 5).Then(Norm2d(batchNorm)).ReLU().MaxPool(2)
           .Flatten().Linear(120).Then(Norm1d(batchNorm)).ReLU()
           .Linear(84).Then(Norm1d(batchNorm)).ReLU()
           .Linear(classes);

    static Layer Norm2d(bool on) => on ? Net.BatchNorm2d() : Net.Identity();
    static Layer Norm1d(bool on) => on ? Net.BatchNorm1d() : Net.Identity();
}
