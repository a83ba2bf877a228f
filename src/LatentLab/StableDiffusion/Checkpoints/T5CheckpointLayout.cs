using System.Globalization;
using System.Text.RegularExpressions;
using LatentLab.StableDiffusion.TextEncoders;
using LatentLab.Weights;

namespace LatentLab.StableDiffusion.Checkpoints;

/// <summary>
/// The sizes of a T5 encoder read from its tensors (transformers' names), for a single file's
/// <c>text_encoders.t5xxl.transformer.*</c> when no <c>text_encoder_3/config.json</c> is at hand.
/// </summary>
internal static partial class T5CheckpointLayout
{
    [GeneratedRegex(@"^encoder\.block\.(\d+)\.")]
    private static partial Regex Block();

    /// <summary>
    /// Vocabulary and width from the token embedding, layers from the <c>encoder.block.N</c>, heads and buckets from
    /// the relative attention bias, head width from the query projection, the feed-forward kind (gated: T5 v1.1's
    /// gated-gelu) and width from <c>wi_0</c> or <c>wi</c>. The maximum relative distance (128) and the norms'
    /// epsilon (1e-6) are every T5's.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor that every T5 encoder has is missing.</exception>
    public static T5EncoderConfig InferConfig(ITensorSource t5)
    {
        long[] embedding = Shape(t5, t5.Names.Contains("shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight");
        int layers = t5.Names.Select(name => Block().Match(name)).Where(match => match.Success)
            .Select(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().Count();
        const string attention = "encoder.block.0.layer.0.SelfAttention.";
        long[] bias = Shape(t5, attention + "relative_attention_bias.weight"); // [buckets, heads]
        long[] query = Shape(t5, attention + "q.weight"); // [heads * d_kv, d_model]
        const string feedForward = "encoder.block.0.layer.1.DenseReluDense.";
        bool gated = t5.Names.Contains(feedForward + "wi_0.weight");
        long[] input = Shape(t5, feedForward + (gated ? "wi_0.weight" : "wi.weight")); // [d_ff, d_model]
        var config = new T5EncoderConfig
        {
            VocabSize = (int)embedding[0],
            DModel = (int)embedding[1],
            NumLayers = layers,
            NumHeads = (int)bias[1],
            RelativeAttentionNumBuckets = (int)bias[0],
            DKv = (int)(query[0] / bias[1]),
            DFf = (int)input[0],
            FeedForwardProj = gated ? "gated-gelu" : "relu",
        };
        config.Validate(t5.Description);
        return config;
    }

    private static long[] Shape(ITensorSource t5, string name) =>
        t5.Names.Contains(name)
            ? t5.ShapeOf(name)
            : throw new InvalidDataException($"{t5.Description}: no tensor {name}; not a T5 encoder.");
}
