namespace NeuralVision.Data;

/// <summary>
/// A data file or data set is missing, unreadable or malformed. The message names the file, the
/// position where that is known, and what to do.
/// </summary>
public sealed class DataException(string message, Exception? inner = null) : Exception(message, inner);
