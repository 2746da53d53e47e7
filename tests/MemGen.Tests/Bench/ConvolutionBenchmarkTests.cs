using System.Text.Json;
using MemGen.Bench;
using MemGen.Cli;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Bench;

[Collection("Console")]
public class ConvolutionBenchmarkTests
{
    [Fact]
    public void RepresentativeLayersKeepSixteenMultiplesBlocked()
    {
        var layers = ConvolutionBenchmark.RepresentativeLayers(64, 40);
        var body = Assert.Single(layers, l => l.Shape.InChannels == 64 && l.Shape.OutChannels == 64);
        Assert.Equal(new ConvolutionShape(64, 64, 64, 40, 40, ConvolutionKind.Same3x3, TensorLayout.Nchw16c, TensorLayout.Nchw16c), body.Shape);
        Assert.Contains(layers, l => l.Shape.Kind == ConvolutionKind.Transposed2x2);
        Assert.Contains(layers, l => l.Shape.InChannels == 1 && l.Shape.SourceLayout == TensorLayout.Nchw);
        Assert.Contains(layers, l => l.Shape.OutChannels == 1 && l.Shape.DestinationLayout == TensorLayout.Nchw);
    }

    [Fact]
    public void MeasureReportsConsistentTimesAndRates()
    {
        var layer = new ConvolutionLayer("tiny", new ConvolutionShape(2, 16, 16, 6, 6, ConvolutionKind.Same3x3, TensorLayout.Nchw16c, TensorLayout.Nchw16c));
        var t = ConvolutionBenchmark.Measure(layer, winograd: false, warmup: 1, repeats: 3);
        Assert.Equal(layer.Shape.ForwardFlops / 1e9, t.GflopPerPass, 12);
        foreach (var p in new[] { t.Forward, t.BackwardData, t.BackwardWeights })
        {
            Assert.True(p.MedianMs > 0 && p.MinMs <= p.MedianMs);
            Assert.Equal(t.GflopPerPass / (p.MedianMs / 1e3), p.Gflops, 6);
            Assert.Equal("direct", p.Algorithm);
            Assert.False(string.IsNullOrEmpty(p.Implementation));
        }
    }

    [Fact]
    public void BenchConvRejectsBadFlagsAndPrintsJson()
    {
        Assert.Equal(2, Program.BuildRoot().Parse(["bench", "conv", "--batch", "0"]).Invoke());
        var saved = Console.Out;
        var output = new StringWriter();
        int code;
        try
        {
            Console.SetOut(output);
            code = Program.BuildRoot().Parse(["bench", "conv", "--batch", "1", "--size", "4", "--warmup", "0", "--repeats", "1", "--json"]).Invoke();
        }
        finally
        {
            Console.SetOut(saved);
        }
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output.ToString());
        var layers = json.RootElement.GetProperty("layers");
        Assert.Equal(5, layers.GetArrayLength());
        Assert.True(layers[0].GetProperty("forward").GetProperty("gflops").GetDouble() > 0);
        Assert.Equal(1, json.RootElement.GetProperty("batch").GetInt32());
    }
}
