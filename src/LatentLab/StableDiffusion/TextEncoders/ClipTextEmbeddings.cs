using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>Token embedding plus learned position embedding; fields mirror <c>text_model.embeddings.*</c>.</summary>
internal sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Embedding token_embedding;
    private readonly Embedding position_embedding;

    public ClipTextEmbeddings(ClipTextConfig config, LayerFactory factory) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = factory.Embedding(config.VocabSize, config.HiddenSize);
        position_embedding = factory.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        RegisterComponents();
    }

    /// <param name="inputIds">int64 [B, L], L at most max_position_embeddings.</param>
    /// <returns>[B, L, D]</returns>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long length = inputIds.shape[1];
        Tensor positions = position_embedding.weight!.narrow(0, 0, length).unsqueeze(0); // [1, L, D]
        return (token_embedding.forward(inputIds) + positions).MoveToOuterDisposeScope();
    }
}
