using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using LatentLab.StableDiffusion.Pipeline;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>
/// Renders the frames of a morph or walk into a folder as <c>frame-NNN.png</c>, several frames per denoising
/// loop, with one progress bar for the whole walk. Resumable: a frame already on disk with the same parameters is
/// kept, so an interrupted walk run again computes only what is missing.
/// </summary>
internal static class FrameRenderer
{
    public static string FramePath(string folder, int index) =>
        Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"frame-{index:D3}.png"));

    /// <summary>
    /// Checks the folder before any work: frames of another run (other parameters) are an error unless
    /// <paramref name="force"/>, which renders everything again.
    /// </summary>
    /// <returns>Indices of the frames still to render.</returns>
    public static List<int> Pending(string folder, IReadOnlyList<WalkFrame> frames, bool force)
    {
        Directory.CreateDirectory(folder);
        var pending = new List<int>();
        for (int i = 0; i < frames.Count; i++)
        {
            string path = FramePath(folder, i);
            if (force || !File.Exists(path))
            {
                pending.Add(i);
                continue;
            }
            IReadOnlyDictionary<string, string> text = ImageFiles.ReadPngText(path);
            if (!text.TryGetValue("parameters", out string? parameters) || parameters != frames[i].Parameters)
            {
                throw new UsageException(
                    $"{path} is a frame of another run (other prompts or settings); use another --out or --force.");
            }
        }
        return pending;
    }

    /// <summary>Renders the pending frames in batches of <paramref name="batchSize"/>.</summary>
    public static void Render(StableDiffusion3 pipeline, string folder, IReadOnlyList<WalkFrame> frames,
        IReadOnlyList<int> pending, int batchSize, int numSteps, double guidance, long seed, int width, int height,
        CancellationToken cancellationToken)
    {
        if (pending.Count == 0) return;
        using ConsoleProgress bar = ConsoleProgress.Start($"{pending.Count} frames", (long)pending.Count * numSteps);
        int done = 0;
        foreach (int[] batch in pending.Chunk(batchSize))
        {
            using var scope = torch.NewDisposeScope();
            var items = batch.Select(index => frames[index].Embeddings()).ToList();
            using Sd3TextEmbeddings embeddings = PromptWalk.Stack(items);
            items.ForEach(item => item.Dispose());
            torch.Tensor noise = torch.cat(batch.Select(index => frames[index].Noise()).ToList(), 0); // [b, C, h, w]
            int framesBefore = done;
            var progress = new ActionProgress<Sd3StepProgress>(report => bar.Report(
                (long)framesBefore * numSteps + (long)batch.Length * report.Step,
                string.Create(CultureInfo.InvariantCulture,
                    $"frames {batch[0]}-{batch[^1]}: {report.Elapsed.TotalSeconds / report.Step:F2} s/step")));
            using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, numSteps, guidance, seed,
                width, height, noise, progress: progress, cancellationToken: cancellationToken);
            for (int i = 0; i < batch.Length; i++)
            {
                ImageFiles.SavePng(FramePath(folder, batch[i]), result.Images[i],
                    new Dictionary<string, string> { ["parameters"] = frames[batch[i]].Parameters }, overwrite: true);
            }
            done += batch.Length;
        }
        bar.Complete($"{pending.Count} frames rendered into {folder}");
    }

    /// <summary>All frames, read back from disk ([3, H, W] in [0, 1] each).</summary>
    public static List<torch.Tensor> ReadAll(string folder, int count)
    {
        var images = new List<torch.Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            using SKBitmap bitmap = ImageFiles.Decode(FramePath(folder, i));
            images.Add(ImageTensors.FromBitmap(bitmap));
        }
        return images;
    }
}
