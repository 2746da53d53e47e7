using MemGen.Experiments.Transition;

namespace MemGen.Tests.Experiments;

public sealed class TransitionSettingsTests
{
    private static readonly TransitionSettings Sizes = new() { Sizes = [1, 10, 1000] };

    [Fact]
    public void ABudgetListGivesTheNamedSizesTheirOwnBudgetAndTheRestTheDefault()
    {
        var s = Sizes.WithBudget("40000, 1000=600000,10=5000");
        s.Validate();
        Assert.Equal([40_000L, 5_000L, 600_000L], s.Sizes.Select(s.BudgetFor));
        Assert.Equal("40000,10=5000,1000=600000", s.BudgetText);
        Assert.Equal(600_000, s.TrainingOptions(1000).Budget);
        Assert.Equal(150_000, s.TrainingOptions(1000).ImagesPerEpoch); // the schedule's epochs follow each model's budget
        Assert.Equal(10_000, s.TrainingOptions(1).ImagesPerEpoch);
        Assert.Equal("5000", s.ToJson("quick")["budget_images_by_size"]!["10"]!.ToJsonString());
    }

    [Fact]
    public void OneBudgetKeepsTheIdentityItAlwaysHad()
    {
        var s = Sizes.WithBudget("1234");
        Assert.Null(s.BudgetBySize);
        Assert.Equal("1234", s.BudgetText);
        Assert.False(s.ToJson("quick").ContainsKey("budget_images_by_size"));
        Assert.Equal(1234, s.BudgetFor(1000));
    }

    [Fact]
    public void FromJsonReadsBackEverySettingToJsonWrites()
    {
        // Every setting away from its default, so a key that ToJson writes and FromJson forgets changes the identity.
        var s = new TransitionSettings
        {
            Data = "disks:size=16,n=400,seed=9",
            TestData = "disks:size=16,n=50,seed=10",
            Sizes = [2, 30],
            Model = "bfcnn:layers=4,width=6",
            BatchSize = 24,
            TrainingSigmaMax = 2.5,
            LearningRate = 0.00037,
            LearningRateHalvings = 1,
            Samples = 7,
            EvalImages = 20,
            Sampler = "flow:heun,steps=12,sigma_max=1.5",
            Start = "gaussian",
            GridRows = 3,
            Seed = 11,
        }.WithBudget("1234,30=999");
        var json = s.ToJson("quick");
        var back = TransitionSettings.FromJson(json);
        Assert.Equal(json.ToJsonString(), back.ToJson("quick").ToJsonString());
        Assert.Equal((2.5, "gaussian", 999L, 7), (back.TrainingSigmaMax, back.Start, back.BudgetFor(30), back.Samples));
        // The defaults read back as defaults (older runs recorded fewer keys).
        var plain = new TransitionSettings().ToJson("quick");
        Assert.Equal(plain.ToJsonString(), TransitionSettings.FromJson(plain).ToJson("quick").ToJsonString());
        plain.Remove("sizes");
        Assert.Contains("'sizes'", Assert.Throws<FormatException>(() => TransitionSettings.FromJson(plain)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherSizesKeepOnlyTheBudgetsOfSizesStillRun()
    {
        var standard = TransitionExperiment.Preset("standard");
        var alone = standard.WithSizes([10_000]);
        alone.Validate(); // the preset's budget for N = 1000 no longer applies
        Assert.Equal(100_000, alone.BudgetFor(10_000));
        Assert.Equal("40000,10000=100000", alone.BudgetText);
        var small = standard.WithSizes([1, 10]);
        Assert.Null(small.BudgetBySize);
        Assert.Equal(40_000, small.BudgetFor(10));
    }

    [Fact]
    public void TheStartAndTheTrainingNoiseRangeJoinTheIdentityOnlyWhenChanged()
    {
        var plain = Sizes.ToJson("quick");
        Assert.False(plain["sampler"]!.AsObject().ContainsKey("start_covariance"));
        Assert.False(plain.ContainsKey("training_sigma_max"));
        var changed = (Sizes with { Start = "gaussian", TrainingSigmaMax = 3 }).ToJson("quick");
        Assert.Equal("covariance of S1 ∪ S2", changed["sampler"]!["start_covariance"]!.GetValue<string>());
        Assert.Equal(3.0, changed["training_sigma_max"]!.GetValue<double>());
        Assert.Equal(3.0, (Sizes with { TrainingSigmaMax = 3 }).TrainingOptions(10).SigmaMax);
    }

    [Theory]
    [InlineData("start", "must be mean or gaussian, got 'cold'")]
    [InlineData("train-sigma-max", "must be positive, got 0")]
    public void ABadStartOrNoiseRangeNamesTheSetting(string setting, string expected)
    {
        var s = setting == "start" ? Sizes with { Start = "cold" } : Sizes with { TrainingSigmaMax = 0 };
        var e = Assert.Throws<InvalidSettingException>(s.Validate);
        Assert.Equal(setting, e.Setting);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("many", "does not start with a number of images")]
    [InlineData("100,10", "'10' is not N=images")]
    [InlineData("100,10=x", "'10=x' is not N=images")]
    [InlineData("100,10=5,10=6", "N = 10 is given twice")]
    [InlineData("100,7=5", "gives a budget for N = 7, which is not one of the sizes (1, 10, 1000)")]
    [InlineData("100,10=0", "must be at least 1 image, got 0 for N = 10")]
    public void ABadBudgetNamesTheSettingAndWhatIsWrong(string text, string expected)
    {
        var e = Assert.Throws<InvalidSettingException>(() => Sizes.WithBudget(text).Validate());
        Assert.Equal("budget", e.Setting);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void TheStandardPresetIsTheQuickOneWithLongerTrainingAtLargeNAndTheFlowFromTheGaussianStart()
    {
        var quick = TransitionExperiment.Preset("quick");
        var standard = TransitionExperiment.Preset("standard");
        standard.Validate();
        Assert.Equal((quick.Data, quick.Model, quick.BatchSize, quick.Samples, quick.TrainingSigmaMax),
            (standard.Data, standard.Model, standard.BatchSize, standard.Samples, standard.TrainingSigmaMax));
        Assert.Equal(quick.Sizes, standard.Sizes);
        Assert.Equal([40_000L, 40_000L, 40_000L], standard.Sizes.Take(3).Select(standard.BudgetFor)); // the small N memorize at the quick budget
        Assert.Equal(640_000, 2 * standard.Sizes.Sum(n => standard.BudgetFor(n))); // the time estimate in docs/standard-preset.md
        Assert.Equal("40000,1000=100000,10000=100000", standard.BudgetText);
        Assert.Equal(("gaussian", "mean"), (standard.Start, quick.Start));
        Assert.Equal(MemGen.Sampling.SamplerKind.ProbabilityFlow, standard.SamplerSpec.Kind);
        Assert.Equal(1f, standard.SamplerSpec.Flow!.MaxSigma); // the flow starts inside the training noise range
    }
}
