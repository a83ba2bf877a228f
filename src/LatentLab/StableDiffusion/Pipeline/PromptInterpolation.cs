using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>
/// Walking between prompts in embedding space: spherical interpolation of whole embedding tensors, and the
/// chapter's interpolation of a text-to-image run's four conditioning tensors.
/// </summary>
public static class PromptInterpolation
{
    /// <summary>
    /// Above this |cos| of the angle between the inputs, <see cref="Slerp"/> interpolates linearly: sin(angle) is
    /// too small to divide by (nearly parallel), or zero (parallel or opposite), where slerp's formula is 0/0.
    /// </summary>
    public const double ParallelThreshold = 0.9995;

    /// <summary>
    /// Spherical linear interpolation over the whole tensor: one angle θ between <paramref name="v1"/> and
    /// <paramref name="v2"/> taken as flat vectors, then sin((1 - t)θ)/sin θ · v1 + sin(tθ)/sin θ · v2.
    /// Computed in float32 and returned in <paramref name="v1"/>'s dtype.
    /// </summary>
    /// <remarks>
    /// Safe where the chapter's version is not: when |cos θ| exceeds <see cref="ParallelThreshold"/> (equal, nearly
    /// parallel or opposite inputs, where the rounded cosine may even exceed 1 and acos give NaN) it falls back to
    /// linear interpolation; a zero vector, which has no angle, does too. t = 0 and t = 1 return copies of the
    /// endpoints exactly. Between unit vectors that are not parallel, the result is a unit vector.
    /// </remarks>
    /// <param name="t">
    /// Position: 0 gives <paramref name="v1"/>, 1 gives <paramref name="v2"/>; any finite value.
    /// </param>
    /// <param name="v1">Start tensor.</param>
    /// <param name="v2">End tensor, of the same shape.</param>
    /// <exception cref="ArgumentException">Shapes differ, or t is not finite.</exception>
    public static Tensor Slerp(double t, Tensor v1, Tensor v2)
    {
        ArgumentNullException.ThrowIfNull(v1);
        ArgumentNullException.ThrowIfNull(v2);
        if (!v1.shape.SequenceEqual(v2.shape))
        {
            throw new ArgumentException(
                $"slerp needs tensors of one shape; got [{string.Join(", ", v1.shape)}] and " +
                $"[{string.Join(", ", v2.shape)}].");
        }
        if (!double.IsFinite(t)) throw new ArgumentException($"t must be finite; got {t}.", nameof(t));
        if (t == 0) return v1.clone();
        if (t == 1) return v2.to(v1.dtype, copy: true);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor start = v1.to(ScalarType.Float32);
        Tensor end = v2.to(ScalarType.Float32);

        // One angle for the whole tensor; .item() is a device sync, once per call.
        double norms = (start.norm() * end.norm()).item<float>();
        double cosine = norms > 0 ? (start * end).sum().item<float>() / norms : 1.0;

        Tensor result;
        if (double.IsNaN(cosine) || Math.Abs(cosine) > ParallelThreshold)
        {
            result = start + (end - start) * t;
        }
        else
        {
            double theta = Math.Acos(cosine);
            double sinTheta = Math.Sin(theta);
            double startWeight = Math.Sin((1 - t) * theta) / sinTheta;
            double endWeight = Math.Sin(t * theta) / sinTheta;
            result = start * startWeight + end * endWeight;
        }
        return result.to(v1.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The chapter's walk from one prompt's conditioning to another's: for <paramref name="num"/> evenly spaced t
    /// from <paramref name="start"/> to <paramref name="stop"/> (both included, as numpy's linspace), the positive
    /// sequence and pooled embeddings are <see cref="Slerp"/>ed, and the negative ones are kept from
    /// <paramref name="e1"/>.
    /// </summary>
    /// <returns><paramref name="num"/> embeddings, each owning its tensors (dispose each).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="num"/> below 1.</exception>
    /// <exception cref="ArgumentException">The two embeddings' shapes differ, or start/stop are not finite.</exception>
    public static IReadOnlyList<Sd3TextEmbeddings> InterpolateTextEmbeddings(Sd3TextEmbeddings e1,
        Sd3TextEmbeddings e2, double start = 0, double stop = 1, int num = 10)
    {
        ArgumentNullException.ThrowIfNull(e1);
        ArgumentNullException.ThrowIfNull(e2);
        IReadOnlyList<double> positions = Positions(start, stop, num);

        var embeddings = new List<Sd3TextEmbeddings>(num);
        try
        {
            foreach (double t in positions)
            {
                embeddings.Add(new Sd3TextEmbeddings(
                    Slerp(t, e1.PromptEmbeds, e2.PromptEmbeds),
                    e1.NegativePromptEmbeds.clone(),
                    Slerp(t, e1.PooledPromptEmbeds, e2.PooledPromptEmbeds),
                    e1.NegativePooledPromptEmbeds.clone()));
            }
        }
        catch
        {
            embeddings.ForEach(embedding => embedding.Dispose());
            throw;
        }
        return embeddings;
    }

    /// <summary>
    /// The t values <see cref="InterpolateTextEmbeddings"/> uses, for labelling frames: <paramref name="num"/> evenly
    /// spaced values from <paramref name="start"/> to exactly <paramref name="stop"/> (just start when num is 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="num"/> below 1.</exception>
    /// <exception cref="ArgumentException">start or stop is not finite.</exception>
    public static IReadOnlyList<double> Positions(double start, double stop, int num)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(num, 1);
        if (!double.IsFinite(start) || !double.IsFinite(stop))
        {
            throw new ArgumentException($"start and stop must be finite; got {start} and {stop}.");
        }
        return Enumerable.Range(0, num)
            .Select(i => i == num - 1 && num > 1 ? stop : start + (stop - start) * i / Math.Max(num - 1, 1))
            .ToList();
    }
}
