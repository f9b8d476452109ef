namespace NeuralVision.Native;

/// <summary>libtorch or TorchSharp's native bridge could not be found, checked or loaded; the message says what to do.</summary>
public sealed class NativeLibraryException(string message, Exception? inner = null) : Exception(message, inner);
