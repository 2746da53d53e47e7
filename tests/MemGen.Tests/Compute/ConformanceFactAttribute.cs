using MemGen.Compute.Cuda;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace MemGen.Tests.Compute;

/// <summary>Marks a conformance-suite class whose backend needs a CUDA device.</summary>
internal interface IRequiresCuda;

/// <summary>
/// A test of the backend conformance suite. It runs for every concrete class that inherits it; in a class marked
/// <see cref="IRequiresCuda"/> on a machine without a usable CUDA device it is reported as skipped, by name, with the
/// reason "skipped: no CUDA device (...)", never passed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("MemGen.Tests.Compute.ConformanceFactDiscoverer", "MemGen.Tests")]
public sealed class ConformanceFactAttribute : FactAttribute;

/// <summary>Discovers <see cref="ConformanceFactAttribute"/> tests: a normal test case, or a skipped one without CUDA.</summary>
public sealed class ConformanceFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    private static readonly Lazy<string?> s_cudaUnavailable = new(CudaBackend.Unavailable);

    /// <summary>The reason CUDA cases are skipped here, or null when a device is usable.</summary>
    public static string? CudaUnavailable => s_cudaUnavailable.Value;

    /// <inheritdoc />
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var type = testMethod.TestClass.Class.ToRuntimeType();
        if (typeof(IRequiresCuda).IsAssignableFrom(type) && CudaUnavailable is string reason)
        {
            yield return new XunitSkippedDataRowTestCase(diagnosticMessageSink, display, displayOptions, testMethod, $"skipped: no CUDA device ({reason})");
            yield break;
        }
        yield return new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod);
    }
}
