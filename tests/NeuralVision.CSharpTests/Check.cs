namespace NeuralVision.CSharpTests;

/// <summary>A failed expectation.</summary>
sealed class CheckFailed(string message) : Exception(message);

/// <summary>Expectations for the tests; each failure says what was expected and what came.</summary>
static class Check
{
    public static void That(bool condition, string what)
    {
        if (!condition) throw new CheckFailed(what);
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual)) throw new CheckFailed($"{what}: expected {expected}, got {actual}");
    }

    public static TException Throws<TException>(Action action, string what) where TException : Exception
    {
        try { action(); }
        catch (TException e) { return e; }
        catch (Exception e) { throw new CheckFailed($"{what}: expected {typeof(TException).Name}, got {e.GetType().Name}: {e.Message}"); }
        throw new CheckFailed($"{what}: expected {typeof(TException).Name}, nothing was thrown");
    }
}
