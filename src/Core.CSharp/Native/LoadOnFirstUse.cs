using System.Runtime.CompilerServices;

namespace NeuralVision.Native;

/// <summary>Loads libtorch as soon as any NeuralVision.Core code runs, so TorchSharp calls that follow find it.</summary>
static class LoadOnFirstUse
{
#pragma warning disable CA2255 // a library module initializer is the point here: TorchSharp must not initialise before the loader
    [ModuleInitializer]
    internal static void Load() => TorchNative.EnsureLoaded();
#pragma warning restore CA2255
}
