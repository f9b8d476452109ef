using NeuralVision.Layers;

namespace NeuralVision.Vision;

/// <summary>
/// GoogLeNet (Inception v1) as torchvision defines it: convolutions without bias followed by BatchNorm
/// (eps 0.001), Inception blocks (parallel 1×1, 1×1→3×3, 1×1→3×3, pool→1×1 concatenated), and two
/// auxiliary classifiers whose losses are weighted into training (6,624,904 parameters without them).
/// </summary>
public static class GoogLeNet
{
    /// <summary>Convolution (no bias), BatchNorm (eps 0.001), ReLU: torchvision's BasicConv2d.</summary>
    public static Layer BasicConv(int channels, int kernel, int stride = 1, int padding = 0) =>
        Net.Block(Net.Named("conv", Net.Conv2d(channels, kernel, stride: stride, padding: padding, bias: false))
           .Then(Net.Named("bn", Net.BatchNorm2d(eps: 0.001))).ReLU());

    /// <summary>An Inception block: four branches concatenated along channels.</summary>
    public static Layer Inception(int ch1x1, int ch3x3red, int ch3x3, int ch5x5red, int ch5x5, int poolProj) =>
        Net.Concat(
            BasicConv(ch1x1, 1),
            BasicConv(ch3x3red, 1).Then(BasicConv(ch3x3, 3, padding: 1)),
            // torchvision keeps a 3×3 here where the paper has 5×5 (for its pretrained weights).
            BasicConv(ch5x5red, 1).Then(BasicConv(ch5x5, 3, padding: 1)),
            Net.MaxPool(3, 1, 1, ceilMode: true).Then(BasicConv(poolProj, 1)));

    /// <summary>An auxiliary classifier: pool to 4×4, 1×1 conv to 128, 2048→1024→classes with dropout 0.7.</summary>
    public static Layer AuxHead(int classes) =>
        Net.AdaptiveAvgPool(4, 4).Then(BasicConv(128, 1)).Flatten().Linear(1024).ReLU().Dropout(0.7).Linear(classes);

    /// <summary>GoogLeNet; with <paramref name="auxHeads"/>, train with <c>Loss.WithAuxiliary(Loss.CrossEntropy(), classes)</c>.</summary>
    public static Layer Create(int classes = 1000, bool auxHeads = true, double dropout = 0.2)
    {
        var stem = BasicConv(64, 7, stride: 2, padding: 3).MaxPool(3, 2, ceilMode: true)
            .Then(BasicConv(64, 1)).Then(BasicConv(192, 3, padding: 1)).MaxPool(3, 2, ceilMode: true)
            .Then(Inception(64, 96, 128, 16, 32, 32)).Then(Inception(128, 128, 192, 32, 96, 64)).MaxPool(3, 2, ceilMode: true)
            .Then(Inception(192, 96, 208, 16, 48, 64));
        var head = Net.AdaptiveAvgPool(1, 1).Flatten().Dropout(dropout).Linear(classes);
        var afterAux2 = Inception(256, 160, 320, 32, 128, 128).MaxPool(2, 2, ceilMode: true)
            .Then(Inception(256, 160, 320, 32, 128, 128)).Then(Inception(384, 192, 384, 48, 128, 128))
            .Then(head);
        var afterAux1 = Inception(160, 112, 224, 24, 64, 64).Then(Inception(128, 128, 256, 24, 64, 64)).Then(Inception(112, 144, 288, 32, 64, 64))
            .Then(auxHeads ? Net.Auxiliary(afterAux2, AuxHead(classes)) : afterAux2);
        return stem.Then(auxHeads ? Net.Auxiliary(afterAux1, AuxHead(classes)) : afterAux1);
    }
}
