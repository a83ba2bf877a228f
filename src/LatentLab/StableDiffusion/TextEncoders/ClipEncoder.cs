using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>The stack of CLIP layers (<c>text_model.encoder.layers.N.*</c>), keeping every layer's output.</summary>
internal sealed class ClipEncoder : nn.Module
{
    private readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(ClipTextConfig config, LayerFactory factory) : base(nameof(ClipEncoder))
    {
        layers = new ModuleList<ClipEncoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new ClipEncoderLayer(config, factory));
        RegisterComponents();
    }

    /// <summary>Runs every layer; returns the input followed by each layer's output, all [B, L, D].</summary>
    public List<Tensor> Forward(Tensor embeddings, Tensor attentionBias)
    {
        var states = new List<Tensor>(layers.Count + 1) { embeddings };
        foreach (ClipEncoderLayer layer in layers) states.Add(layer.forward(states[^1], attentionBias));
        return states;
    }
}
