using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>Renders a walk's frames (resuming finished ones) and writes its GIF and, for a morph, its strip.</summary>
internal static class WalkOutput
{
    public static int RenderAndWrite(StableDiffusion3 pipeline, WalkSettings settings, IReadOnlyList<WalkFrame> frames,
        string name, bool writeStrip, CancellationToken cancellationToken)
    {
        List<int> pending = FrameRenderer.Pending(settings.Folder, frames, settings.Force);
        if (pending.Count < frames.Count)
            CliOutput.Line($"{frames.Count - pending.Count} of {frames.Count} frames already in {settings.Folder}; rendering {pending.Count}");
        FrameRenderer.Render(pipeline, settings.Folder, frames, pending, settings.Batch, settings.Steps,
            settings.Guidance, settings.Seed, settings.Width, settings.Height, cancellationToken);

        using var scope = torch.NewDisposeScope();
        List<torch.Tensor> images = FrameRenderer.ReadAll(settings.Folder, frames.Count);
        if (writeStrip)
        {
            string strip = Path.Combine(settings.Folder, $"{name}-strip.png");
            ImageFiles.SavePng(strip, ImageGrid.Compose(torch.stack(images), columns: images.Count), overwrite: true);
            CliOutput.Line($"strip -> {strip}");
        }
        string gif = Path.Combine(settings.Folder, $"{name}.gif");
        AnimationFiles.SaveGif(gif, images, settings.DelayMs, overwrite: true);
        CliOutput.Line($"{frames.Count} frames -> {gif}");
        return ExitCodes.Ok;
    }
}
