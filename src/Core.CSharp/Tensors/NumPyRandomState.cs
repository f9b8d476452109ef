namespace NeuralVision.Tensors;

/// <summary>
/// NumPy's legacy <c>np.random.RandomState(seed)</c>: the MT19937 stream and the draws scikit-learn's
/// <c>train_test_split</c> and the course's notebooks make (<c>permutation</c>), number for number.
/// It exists so a split or a batch order published with a NumPy seed can be reproduced here;
/// MathNet's Mersenne Twister does not expose the raw 32-bit outputs NumPy's draws are built from.
/// </summary>
public sealed class NumPyRandomState
{
    const int N = 624, M = 397;
    readonly uint[] state = new uint[N];
    int position;

    /// <summary>The state <c>np.random.RandomState(seed)</c> (or <c>np.random.seed(seed)</c>) starts from.</summary>
    public NumPyRandomState(uint seed)
    {
        // init_genrand of Matsumoto and Nishimura's reference code, which NumPy uses for an integer seed.
        state[0] = seed;
        for (int i = 1; i < N; i++)
            state[i] = unchecked(1812433253u * (state[i - 1] ^ (state[i - 1] >> 30)) + (uint)i);
        position = N;
    }

    NumPyRandomState(uint[] state, int position) { this.state = (uint[])state.Clone(); this.position = position; }

    /// <summary>An independent copy at the same point of the stream.</summary>
    public NumPyRandomState Clone() => new(state, position);

    /// <summary>The next raw 32-bit output (MT19937 with tempering).</summary>
    public uint NextUInt32()
    {
        if (position >= N) Twist();
        uint y = state[position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        return y ^ (y >> 18);
    }

    void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (state[i] & 0x80000000u) | (state[(i + 1) % N] & 0x7FFFFFFFu);
            state[i] = state[(i + M) % N] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : 0x9908B0DFu);
        }
        position = 0;
    }

    /// <summary>A uniform integer in [0, max], drawn as NumPy's <c>random_interval</c> does (masked rejection).</summary>
    public uint Interval(uint max)
    {
        if (max == 0) return 0;
        uint mask = max;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max) { }
        return value;
    }

    /// <summary><c>permutation(n)</c>: 0..n−1 shuffled by NumPy's Fisher–Yates (from the last element down).</summary>
    public long[] Permutation(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var order = new long[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            var j = (int)Interval((uint)i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>
    /// Epoch e's order (1-based) as a loop calling <c>np.random.permutation(n)</c> once per epoch from
    /// this point of the stream draws it, for <see cref="Data.Loader.WithOrder"/>. A pure function of the
    /// epoch (a copy of the stream is advanced and remembered), so a resumed run gets the same orders.
    /// </summary>
    public Func<int, long[]> PermutationPerEpoch(int n)
    {
        var stream = Clone();
        var made = new List<long[]>();
        return epoch =>
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
            lock (made)
            {
                while (made.Count < epoch) made.Add(stream.Permutation(n));
                return made[epoch - 1];
            }
        };
    }
}
