namespace NeuralVision.Layers;

/// <summary>
/// A model does not fit the shape it is built against. Raised at build time, before any training,
/// naming the layer's path in the model, the shape it got and the shape it needed.
/// </summary>
public sealed class ShapeException : Exception
{
    /// <summary>The layer's path in the model, e.g. <c>3</c> or <c>5.body.1</c>.</summary>
    public string Path { get; }
    /// <summary>The layer, as the summary describes it.</summary>
    public string Layer { get; }
    /// <summary>The shape of one sample that reached the layer.</summary>
    public Shape Got { get; }
    /// <summary>What the layer needed, in words and sizes.</summary>
    public string Needed { get; }

    /// <summary>Creates the error; <paramref name="hint"/> says what to change, when there is something to say.</summary>
    public ShapeException(string path, string layer, Shape got, string needed, string? hint = null)
        : base($"layer {(path.Length == 0 ? "(root)" : path)} '{layer}' got input {got} but needs {needed}" + (hint is null ? "." : $"; {hint}."))
    {
        Path = path;
        Layer = layer;
        Got = got;
        Needed = needed;
    }
}
