using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>CLIP's text transformer (<c>text_model.*</c>): embeddings, causal layers, final layer norm.</summary>
internal sealed class ClipTextTransformer : nn.Module
{
    private readonly ClipTextEmbeddings embeddings;
    private readonly ClipEncoder encoder;
    private readonly Float32LayerNorm final_layer_norm;
    private readonly ClipTextConfig _config;

    public ClipTextTransformer(ClipTextConfig config, LayerFactory factory) : base(nameof(ClipTextTransformer))
    {
        embeddings = new ClipTextEmbeddings(config, factory);
        encoder = new ClipEncoder(config, factory);
        final_layer_norm = new Float32LayerNorm(config.HiddenSize, config.LayerNormEps, factory);
        _config = config;
        RegisterComponents();
    }

    /// <summary>Hidden states of every layer, the final normalised states and the pooled (end token) states.</summary>
    public (List<Tensor> HiddenStates, Tensor LastHiddenState, Tensor Pooled) Forward(Tensor inputIds)
    {
        long batch = inputIds.shape[0], length = inputIds.shape[1];
        if (length > _config.MaxPositionEmbeddings)
        {
            throw new ArgumentException(
                $"{length} tokens given but the CLIP text model has {_config.MaxPositionEmbeddings} positions.",
                nameof(inputIds));
        }

        // Causal mask: a token sees itself and the tokens before it.
        using Tensor causalBias = full(length, length, float.NegativeInfinity, ScalarType.Float32, inputIds.device)
            .triu_(1).view(1, 1, length, length); // [1, 1, L, L]
        List<Tensor> hiddenStates = encoder.Forward(embeddings.forward(inputIds), causalBias);
        Tensor lastHiddenState = final_layer_norm.forward(hiddenStates[^1]); // [B, L, D]

        // The pooled token is the end token. eos_token_id 2 marks configs written before transformers knew the
        // real id; then it relies on the end token having the largest id in the vocabulary.
        using Tensor endPositions = _config.EosTokenId == 2
            ? inputIds.argmax(-1)
            : inputIds.eq(_config.EosTokenId).to(ScalarType.Int32).argmax(-1); // [B]
        using Tensor rows = arange(batch, ScalarType.Int64, inputIds.device);
        Tensor pooled = lastHiddenState[rows, endPositions]; // [B, D]
        return (hiddenStates, lastHiddenState, pooled);
    }
}
