using System.Globalization;
using LatentLab.StableDiffusion.Pipeline;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>A morph's or walk's validated settings.</summary>
internal sealed record WalkSettings(string? Model, StableDiffusion3Options Options, string Negative, double Guidance,
    long Seed, int Width, int Height, int Steps, int Batch, string Folder, int DelayMs, bool Force)
{
    /// <summary>A frame's parameters text (the A1111 form generate writes) for the given prompt label and seed.</summary>
    public string Parameters(string prompt, long seed, string modelName) =>
        Sd3CommandOptions.ParametersText(prompt, Negative, Steps, Guidance, seed, Width, Height, modelName) +
        string.Create(CultureInfo.InvariantCulture, $", DType: {Options.DType}, T5: {(Options.UseT5 ? "on" : "off")}");
}
