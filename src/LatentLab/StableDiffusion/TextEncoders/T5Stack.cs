using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>T5's encoder stack (<c>encoder.block.N.*</c>, <c>encoder.final_layer_norm</c>).</summary>
internal sealed class T5Stack : nn.Module
{
    private readonly ModuleList<T5Block> block;
    private readonly T5LayerNorm final_layer_norm;

    public T5Stack(T5EncoderConfig config, LayerFactory factory) : base(nameof(T5Stack))
    {
        block = new ModuleList<T5Block>();
        for (int i = 0; i < config.NumLayers; i++) block.Add(new T5Block(config, i == 0, factory));
        final_layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, factory);
        RegisterComponents();
    }

    /// <summary>
    /// Runs the blocks over embedded tokens [B, L, d_model]. With <paramref name="keepHiddenStates"/>, also returns
    /// what transformers reports as hidden states: the input of each block, then the final normalised output.
    /// </summary>
    public (Tensor LastHiddenState, List<Tensor>? HiddenStates) Forward(Tensor embeddings, bool keepHiddenStates)
    {
        List<Tensor>? hiddenStates = keepHiddenStates ? [] : null;
        using Tensor positionBias = block[0].PositionBias(embeddings.shape[1]); // [1, heads, L, L]
        Tensor states = embeddings;
        foreach (T5Block current in block)
        {
            hiddenStates?.Add(states);
            Tensor next = current.forward(states, positionBias);
            if (hiddenStates is null && !ReferenceEquals(states, embeddings)) states.Dispose();
            states = next;
        }
        Tensor last = final_layer_norm.forward(states);
        if (hiddenStates is null) states.Dispose();
        hiddenStates?.Add(last);
        return (last, hiddenStates);
    }
}
