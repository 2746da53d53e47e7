using MemGen.Images;
using MemGen.Sampling;
using MemGen.Tensors;
using MemGen.Tests.Data;

namespace MemGen.Tests.Sampling;

public class SampleSetFilesTests
{
    [Fact]
    public void WhatIsWrittenReadsBackAndAMismatchIsNotTrusted()
    {
        using var tmp = new TempFolder();
        var samples = new Tensor(3, 1, 2, 2);
        for (int i = 0; i < samples.Data.Length; i++) samples.Data[i] = i / 12f;
        var result = new SamplingResult(samples, [4, 5, 6], [0.04f, 0.05f, 2.5f],
            [SampleOutcome.Converged, SampleOutcome.Converged, SampleOutcome.SigmaExceeded], seed: 7, firstIndex: 10, "sampler", "denoiser");
        var files = new SampleSetFiles(tmp.File("s.npy"), tmp.File("s.csv"), tmp.File("s.png"));
        files.Write(result);
        Assert.True(File.Exists(tmp.File("s.png")));

        var back = files.TryRead(3, new ImageShape(1, 2, 2), 7, "sampler", "denoiser")!;
        Assert.Equal(samples.Data, back.Samples.Data);
        Assert.Equal(result.Steps, back.Steps);
        Assert.Equal(result.FinalSigma, back.FinalSigma);
        Assert.Equal(result.Outcomes, back.Outcomes);
        Assert.Equal(10, back.FirstIndex);
        Assert.Equal(1, back.DivergedCount);

        Assert.Null(files.TryRead(4, new ImageShape(1, 2, 2), 7, "sampler", "denoiser"));
        Assert.Null(files.TryRead(3, new ImageShape(1, 4, 1), 7, "sampler", "denoiser"));
        File.WriteAllText(tmp.File("s.csv"), "index,steps\n0,x\n");
        Assert.Null(files.TryRead(3, new ImageShape(1, 2, 2), 7, "sampler", "denoiser"));
        File.Delete(tmp.File("s.npy"));
        Assert.Null(files.TryRead(3, new ImageShape(1, 2, 2), 7, "sampler", "denoiser"));
    }
}
