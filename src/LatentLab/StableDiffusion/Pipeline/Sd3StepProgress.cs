namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>Reported after each denoising step of <c>StableDiffusion3.Generate</c>.</summary>
/// <param name="Step">Steps done, 1 to <paramref name="TotalSteps"/>.</param>
/// <param name="TotalSteps">Steps of the run.</param>
/// <param name="StepTime">Wall time of this step.</param>
/// <param name="Elapsed">Wall time since denoising started.</param>
public sealed record Sd3StepProgress(int Step, int TotalSteps, TimeSpan StepTime, TimeSpan Elapsed);
