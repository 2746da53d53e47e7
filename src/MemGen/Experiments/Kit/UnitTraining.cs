using MemGen.Compute;
using MemGen.Images;
using MemGen.Training;

namespace MemGen.Experiments.Kit;

/// <summary>
/// The network of one experiment unit, trained in the run directory's <c>models/&lt;unit&gt;/</c> as a
/// <see cref="TrainingRun"/>: a re-run resumes an unfinished training from its last checkpoint and reloads a finished one.
/// </summary>
public static class UnitTraining
{
    /// <summary>
    /// A training recipe of <paramref name="budget"/> images: Adam at <paramref name="learningRate"/>, halved once half-way
    /// (a single-decay schedule, as the short experiment budgets need), four evaluations and checkpoints over the run.
    /// </summary>
    public static TrainingOptions Options(long budget, int batchSize, double learningRate, int evalImages = 32)
    {
        var options = new TrainingOptions
        {
            LearningRate = learningRate,
            BatchSize = batchSize,
            Budget = budget,
            ImagesPerEpoch = (int)Math.Clamp(budget / 2, 1, int.MaxValue),
            LearningRateDecayEpochs = 1,
            LearningRateDecay = 0.5,
            EvalImages = evalImages,
        };
        long steps = options.TotalSteps;
        return options with { EvalEvery = (int)Math.Max(1, steps / 4), CheckpointEvery = (int)Math.Max(1, steps / 4) };
    }

    /// <summary>
    /// Checks the recipe settings of a unit training (<see cref="Options"/>) by the flags the experiments give them:
    /// <c>train-count</c>, <c>budget</c>, <c>batch</c>, <c>lr</c>.
    /// </summary>
    /// <exception cref="InvalidSettingException">The first invalid setting.</exception>
    public static void CheckRecipe(int trainingCount, long budget, int batchSize, double learningRate)
    {
        if (trainingCount < 1) throw new InvalidSettingException("train-count", $"{trainingCount} must be at least 1");
        if (budget < 1) throw new InvalidSettingException("budget", $"{budget} must be at least 1 image");
        if (batchSize < 1) throw new InvalidSettingException("batch", $"{batchSize} must be at least 1");
        if (!(learningRate > 0) || !double.IsFinite(learningRate)) throw new InvalidSettingException("lr", $"{learningRate} must be positive");
    }

    /// <summary>
    /// Trains (or resumes, or reloads) the network of unit <paramref name="unit"/> on <paramref name="training"/>; a
    /// models folder that holds another training is refused naming <c>--out</c>.
    /// </summary>
    public static TrainingResult TrainOrResume(RunDirectory run, string unit, TrainingConfig config, ImageSet training, ImageSet? evaluation,
        ComputeBackend backend, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(run);
        var dir = run.Folder("models", unit);
        try
        {
            return TrainingRun.StartOrResume(dir, config, training, evaluation, backend, progress, cancellation);
        }
        catch (TrainingRunException e)
        {
            throw new InvalidSettingException("out", $"training {dir}: {e.Message}", e);
        }
    }
}
