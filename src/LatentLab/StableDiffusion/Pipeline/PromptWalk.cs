using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>
/// The pieces of an animated walk: frame positions on a closed loop through several prompts, noise mixed on a
/// circle, and batching of per-frame conditioning so that several frames share one denoising loop.
/// </summary>
public static class PromptWalk
{
    /// <summary>
    /// Frames of a closed loop through <paramref name="promptCount"/> prompts (A to B, B to C, ..., back to A),
    /// <paramref name="framesPerSegment"/> per leg, each as the leg's two prompt indices and the slerp position
    /// t in [0, 1). A leg's end is the next leg's first frame, so no frame repeats and the animation loops smoothly.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 2 prompts or 1 frame per segment.</exception>
    public static IReadOnlyList<(int From, int To, double T)> Loop(int promptCount, int framesPerSegment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptCount, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(framesPerSegment, 1);
        var frames = new List<(int, int, double)>(promptCount * framesPerSegment);
        for (int from = 0; from < promptCount; from++)
        {
            for (int i = 0; i < framesPerSegment; i++)
                frames.Add((from, (from + 1) % promptCount, (double)i / framesPerSegment));
        }
        return frames;
    }

    /// <summary>
    /// cos(angle) first + sin(angle) second: for two independent standard normal draws the result is again standard
    /// normal at every angle (cos² + sin² = 1), so a circle of angles walks through noise of the right norm, unlike
    /// a straight line between the two, whose midpoint has only 1/√2 of it.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor MixNoise(Tensor first, Tensor second, double angle)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!first.shape.SequenceEqual(second.shape))
        {
            throw new ArgumentException($"noises of different shapes: [{string.Join(", ", first.shape)}] and " +
                                        $"[{string.Join(", ", second.shape)}]");
        }
        using var scope = NewDisposeScope();
        return (first * Math.Cos(angle) + second * Math.Sin(angle)).MoveToOuterDisposeScope();
    }

    /// <summary>One item of a batch of conditioning, as a batch of one (copies).</summary>
    public static Sd3TextEmbeddings Select(Sd3TextEmbeddings batch, int index)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, batch.BatchSize);
        return new Sd3TextEmbeddings(batch.PromptEmbeds[index..(index + 1)].clone(),
            batch.NegativePromptEmbeds[index..(index + 1)].clone(), batch.PooledPromptEmbeds[index..(index + 1)].clone(),
            batch.NegativePooledPromptEmbeds[index..(index + 1)].clone());
    }

    /// <summary>Conditioning of several frames as one batch (their order kept), for one shared denoising loop.</summary>
    /// <exception cref="ArgumentException">No items.</exception>
    public static Sd3TextEmbeddings Stack(IReadOnlyList<Sd3TextEmbeddings> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0) throw new ArgumentException("nothing to stack", nameof(items));
        return new Sd3TextEmbeddings(cat(items.Select(item => item.PromptEmbeds).ToList(), 0), // [B, L, D]
            cat(items.Select(item => item.NegativePromptEmbeds).ToList(), 0),
            cat(items.Select(item => item.PooledPromptEmbeds).ToList(), 0), // [B, Dp]
            cat(items.Select(item => item.NegativePooledPromptEmbeds).ToList(), 0));
    }
}
