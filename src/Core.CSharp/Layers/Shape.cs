using System.Collections;

namespace NeuralVision.Layers;

/// <summary>
/// The shape of one sample, without the batch dimension: [1, 28, 28] for a grey 28×28 image,
/// [120] for a feature vector. Equal by value; prints as <c>1x28x28</c>.
/// </summary>
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<long>
{
    readonly long[] dims;

    /// <summary>A shape of the given dimensions; every one must be positive.</summary>
    public Shape(params long[] dims)
    {
        if (dims.Any(d => d <= 0))
            throw new ArgumentException($"Shape dimensions must be positive, got [{string.Join(", ", dims)}].");
        this.dims = dims.ToArray();
    }

    /// <summary>A shape from a sequence of dimensions.</summary>
    public static Shape Of(IEnumerable<long> dims) => new(dims.ToArray());

    /// <summary>Parses <c>1x28x28</c> (also <c>1,28,28</c> or <c>[1; 28; 28]</c>).</summary>
    public static Shape Parse(string text)
    {
        var parts = text.Trim().Trim('[', ']', '(', ')').Split(['x', 'X', ',', ';', '×', ' '], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => !long.TryParse(p, out var d) || d <= 0))
            throw new FormatException($"'{text}' is not a shape; write positive sizes joined by x, e.g. 1x28x28.");
        return new Shape(parts.Select(long.Parse).ToArray());
    }

    /// <summary>The number of dimensions.</summary>
    public int Rank => dims.Length;
    /// <summary>The number of values in one sample.</summary>
    public long Elements => dims.Aggregate(1L, (a, b) => a * b);
    /// <inheritdoc/>
    public int Count => dims.Length;
    /// <inheritdoc/>
    public long this[int index] => dims[index < 0 ? dims.Length + index : index];

    /// <summary>The shape with a batch dimension in front, as libtorch wants it.</summary>
    public long[] WithBatch(long batch) => dims.Prepend(batch).ToArray();

    /// <summary>The shape with one dimension replaced.</summary>
    public Shape With(int index, long value)
    {
        var copy = dims.ToArray();
        copy[index < 0 ? copy.Length + index : index] = value;
        return new Shape(copy);
    }

    /// <inheritdoc/>
    public bool Equals(Shape? other) => other is not null && dims.AsSpan().SequenceEqual(other.dims);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Shape);
    /// <inheritdoc/>
    public override int GetHashCode() => dims.Aggregate(17, (h, d) => h * 31 + d.GetHashCode());
    /// <inheritdoc/>
    public override string ToString() => string.Join("x", dims);
    /// <inheritdoc/>
    public IEnumerator<long> GetEnumerator() => ((IEnumerable<long>)dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => dims.GetEnumerator();
}

/// <summary>An immutable list equal by its elements, so records holding one are equal by value.</summary>
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    readonly T[] items;
    /// <summary>A list of the given items (copied).</summary>
    public ValueList(IEnumerable<T> items) => this.items = items.ToArray();
    /// <inheritdoc/>
    public T this[int index] => items[index];
    /// <inheritdoc/>
    public int Count => items.Length;
    /// <inheritdoc/>
    public bool Equals(ValueList<T>? other) => other is not null && items.SequenceEqual(other.items);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ValueList<T>);
    /// <inheritdoc/>
    public override int GetHashCode() => items.Aggregate(19, (h, x) => h * 31 + (x?.GetHashCode() ?? 0));
    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => items.GetEnumerator();
    /// <inheritdoc/>
    public override string ToString() => $"[{string.Join(", ", items)}]";
}
