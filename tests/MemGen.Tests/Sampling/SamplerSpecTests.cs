using MemGen.Denoisers;
using MemGen.Sampling;

namespace MemGen.Tests.Sampling;

public class SamplerSpecTests
{
    [Fact]
    public void ParsesKeysShorthandsAndRoundTripsThroughItsCanonicalForm()
    {
        var a = SamplerSpec.Parse("algorithm1:variant=code,beta=0.5,h0=0.02,max_steps=300");
        Assert.Equal(SamplerKind.Algorithm1, a.Kind);
        Assert.Equal(Algorithm1Variant.Code, a.Algorithm1!.Variant);
        Assert.Equal(0.5, a.Algorithm1.Beta);
        Assert.Equal(0.02, a.Algorithm1.InitialStep);
        Assert.Equal(300, a.Algorithm1.MaxSteps);
        Assert.Equal(0.05, a.Algorithm1.FinalSigma); // unnamed keys keep the paper's values
        Assert.Equal(a, SamplerSpec.Parse(a.ToString()));
        Assert.Equal(SamplerSpec.Parse("algorithm1:variant=code"), SamplerSpec.Parse("algorithm1-code"));
        Assert.Equal(SamplerSpec.PaperAlgorithm1, SamplerSpec.Parse("algorithm1"));

        var f = SamplerSpec.Parse("flow:heun,steps=7,sigma_min=0.02");
        Assert.Equal(SamplerKind.ProbabilityFlow, f.Kind);
        Assert.Equal(ProbabilityFlowMethod.Heun, f.Flow!.Method);
        Assert.Equal(7, f.Flow.Steps);
        Assert.Equal(0.02f, f.Flow.MinSigma);
        Assert.Equal(f, SamplerSpec.Parse(f.ToString()));
        Assert.Equal(SamplerSpec.Parse("flow:method=heun"), SamplerSpec.Parse("flow-heun"));
        Assert.Equal("algorithm1", (string)a.ToJson()["algorithm"]!);
    }

    [Theory]
    [InlineData("langevin", "unknown sampler")]
    [InlineData("algorithm1:beta", "not key=value")]
    [InlineData("algorithm1:gamma=1", "unknown key 'gamma'")]
    [InlineData("algorithm1:steps=10", "applies to the flow samplers and the edm sampler only")]
    [InlineData("flow:rho=7", "applies to the edm sampler only")]
    [InlineData("edm:rho=0", "rho = 0 must be positive")]
    [InlineData("edm:final_denoise=true", "applies to the flow samplers only")]
    [InlineData("flow:h0=0.1", "applies to the algorithm1 samplers only")]
    [InlineData("algorithm1:beta=0", "beta = 0 must be in (0, 1]")]
    [InlineData("algorithm1:variant=fast", "variant must be paper or code")]
    [InlineData("algorithm1:max_steps=99999999999", "must be an integer")]
    [InlineData("flow:steps=0", "steps = 0 must be positive")]
    [InlineData("flow:final_denoise=maybe", "true or false")]
    [InlineData("", "empty")]
    public void RejectsBadSpecsWithOneLineSayingWhat(string text, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => SamplerSpec.Parse(text));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheBuiltSamplerCarriesTheSpecTheStartAndTheBatchAndSamplesLikeTheOptionsItWraps()
    {
        var spec = SamplerSpec.Parse("algorithm1:variant=code,h0=0.1,sigma_inf=0.1");
        var start = SamplingStart.Constant(0.3f);
        var sampler = spec.Create(start, batchSize: 3);
        Assert.Equal(spec, sampler.Spec);
        var direct = new Algorithm1Sampler(spec.Algorithm1! with { MeanValue = 0.3f, BatchSize = 5 });
        var denoiser = new IdentityShrink();
        var a = sampler.Sample(denoiser, 4, 1, 4, 4, seed: 9);
        var b = direct.Sample(denoiser, 4, 1, 4, 4, seed: 9);
        Assert.Equal(b.Samples.Data, a.Samples.Data); // same noise per sample index whatever the batch size
        Assert.Equal(b.Steps, a.Steps);
    }

    /// <summary>f(y) = 0.5·y + 0.25: a contraction toward 0.5 that Algorithm 1 converges on in a few steps.</summary>
    private sealed class IdentityShrink : IDenoiser
    {
        public string Name => "shrink";

        public bool IsBlind => true;

        public void Denoise(MemGen.Tensors.Tensor noisy, MemGen.Tensors.Tensor denoised, ReadOnlySpan<float> sigmas)
        {
            for (int i = 0; i < noisy.Data.Length; i++) denoised.Data[i] = 0.5f * noisy.Data[i] + 0.25f;
        }
    }
}
