using Xunit.v3;

[assembly: TestPipelineStartup<NeuralVision.CSharpTests.LoadNatives>]

namespace NeuralVision.CSharpTests;

/// <summary>libtorch must be loaded (and patched where the host needs it) before any test touches TorchSharp.</summary>
public sealed class LoadNatives : ITestPipelineStartup
{
    /// <inheritdoc/>
    public ValueTask StartAsync(Xunit.Sdk.IMessageSink diagnosticMessageSink)
    {
        NeuralVision.Native.TorchNative.EnsureLoaded();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask StopAsync() => ValueTask.CompletedTask;
}
