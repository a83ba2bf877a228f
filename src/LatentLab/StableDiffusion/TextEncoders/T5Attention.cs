using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// T5's bidirectional self-attention: no bias, no 1/sqrt(d) scaling (T5 folds it into the weights), and a learned
/// relative position bias that only the first layer owns (<c>relative_attention_bias</c>) and every layer adds.
/// Fields mirror the checkpoint's <c>SelfAttention.*</c> keys.
/// </summary>
internal sealed class T5Attention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear q;
    private readonly Linear k;
    private readonly Linear v;
    private readonly Linear o;
    private readonly Embedding? relative_attention_bias;
    private readonly int _heads;
    private readonly int _headWidth;
    private readonly int _numBuckets;
    private readonly int _maxDistance;

    public T5Attention(T5EncoderConfig config, bool hasRelativeAttentionBias, LayerFactory factory)
        : base(nameof(T5Attention))
    {
        int inner = config.NumHeads * config.DKv;
        q = factory.Linear(config.DModel, inner, false);
        k = factory.Linear(config.DModel, inner, false);
        v = factory.Linear(config.DModel, inner, false);
        o = factory.Linear(inner, config.DModel, false);
        if (hasRelativeAttentionBias)
        {
            relative_attention_bias = factory.Embedding(config.RelativeAttentionNumBuckets, config.NumHeads);
        }
        _heads = config.NumHeads;
        _headWidth = config.DKv;
        _numBuckets = config.RelativeAttentionNumBuckets;
        _maxDistance = config.RelativeAttentionMaxDistance;
        RegisterComponents();
    }

    /// <summary>
    /// The position bias [1, heads, L, L] in float32 for a sequence of <paramref name="length"/> tokens; only the
    /// layer that owns <c>relative_attention_bias</c> can compute it.
    /// </summary>
    public Tensor PositionBias(long length)
    {
        if (relative_attention_bias is null)
        {
            throw new InvalidOperationException("only the first T5 layer owns the relative attention bias.");
        }
        using var scope = NewDisposeScope();
        Device device = relative_attention_bias.weight!.device;
        Tensor queryPositions = arange(length, ScalarType.Int64, device).unsqueeze(1); // [L, 1]
        Tensor keyPositions = arange(length, ScalarType.Int64, device).unsqueeze(0); // [1, L]
        Tensor buckets = RelativePositionBuckets(keyPositions - queryPositions, _numBuckets, _maxDistance); // [L, L]
        Tensor values = relative_attention_bias.forward(buckets); // [L, L, heads]
        return values.permute(2, 0, 1).unsqueeze(0).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Maps signed distances (key minus query) to buckets: half the buckets per direction; within each half,
    /// distances below a quarter of the buckets get one bucket each, larger ones share logarithmically wider
    /// buckets up to <paramref name="maxDistance"/>, beyond which all fall in the last bucket.
    /// The float32 arithmetic follows transformers' so that bucket edges agree exactly.
    /// </summary>
    internal static Tensor RelativePositionBuckets(Tensor relativePositions, int numBuckets, int maxDistance)
    {
        using var scope = NewDisposeScope();
        int halfBuckets = numBuckets / 2;
        Tensor buckets = relativePositions.gt(0).to(ScalarType.Int64) * halfBuckets;
        Tensor distances = relativePositions.abs();

        int maxExact = halfBuckets / 2;
        Tensor isSmall = distances.lt(maxExact);
        Tensor logScaled = (distances.to(ScalarType.Float32) / maxExact).log() /
                           Math.Log((double)maxDistance / maxExact) * (halfBuckets - maxExact);
        Tensor large = (logScaled.to(ScalarType.Int64) + maxExact).clamp_max(halfBuckets - 1);
        return (buckets + where(isSmall, distances, large)).MoveToOuterDisposeScope();
    }

    /// <param name="hiddenStates">[B, L, d_model], already layer-normed.</param>
    /// <param name="positionBias">float32 [1, heads, L, L] from the first layer.</param>
    public override Tensor forward(Tensor hiddenStates, Tensor positionBias)
    {
        using var scope = NewDisposeScope();
        long batch = hiddenStates.shape[0], length = hiddenStates.shape[1];
        Tensor queries = q.forward(hiddenStates).view(batch, length, _heads, _headWidth).transpose(1, 2);
        Tensor keys = k.forward(hiddenStates).view(batch, length, _heads, _headWidth).transpose(1, 2);
        Tensor values = v.forward(hiddenStates).view(batch, length, _heads, _headWidth).transpose(1, 2);
        // [B, heads, L, d_kv]

        Tensor scores = matmul(queries, keys.transpose(2, 3)).to(ScalarType.Float32) + positionBias;
        Tensor weights = scores.softmax(-1).to(values.dtype); // [B, heads, L, L]
        Tensor attended = matmul(weights, values).transpose(1, 2).reshape(batch, length, _heads * _headWidth);
        // [B, L, heads * d_kv]
        return o.forward(attended).MoveToOuterDisposeScope();
    }
}
