using System.Globalization;
using MemGen.Nn;

namespace MemGen.Experiments.Kit;

/// <summary>The <c>--model</c> setting of an experiment that trains networks on images of one size.</summary>
public static class ExperimentModel
{
    /// <summary>Parses <paramref name="model"/>; throws <see cref="InvalidSettingException"/> naming <c>model</c> when it is malformed or cannot take <paramref name="size"/>×<paramref name="size"/> images.</summary>
    public static NetworkSpec Check(string model, int size)
    {
        NetworkSpec spec;
        try
        {
            spec = NetworkSpec.Parse(model);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException("model", e.Message, e);
        }
        if (size % spec.SizeDivisor != 0)
            throw new InvalidSettingException("model", string.Create(CultureInfo.InvariantCulture, $"{spec} needs an image side divisible by {spec.SizeDivisor}, size is {size}"));
        return spec;
    }
}
