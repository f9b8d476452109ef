// The C# test program: runs every test, prints one line each, writes "passed failed skipped" to
// $NV_TEST_SUMMARY for ./nv test, and exits non-zero on any failure.
using NeuralVision.CSharpTests;

NeuralVision.Native.TorchNative.EnsureLoaded();
var tests = FluentTests.All;
int passed = 0, failed = 0;
foreach (var (name, body) in tests)
{
    try
    {
        body();
        passed++;
        Console.WriteLine($"[pass] {name}");
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"[FAIL] {name}: {e.Message}");
        if (e is not CheckFailed) Console.WriteLine(e);
    }
}
Console.WriteLine($"C#: {passed} passed, {failed} failed");
if (Environment.GetEnvironmentVariable("NV_TEST_SUMMARY") is { Length: > 0 } summary)
    File.WriteAllText(summary, $"{passed} {failed} 0");
return failed > 0 ? 1 : 0;
