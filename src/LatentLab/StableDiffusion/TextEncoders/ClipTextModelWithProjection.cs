using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// transformers' <c>CLIPTextModelWithProjection</c>: CLIP's causal text transformer and the linear projection of the
/// end token's state. Fields mirror the checkpoint keys (<c>text_model.*</c>, <c>text_projection.weight</c>), so
/// a diffusers <c>text_encoder</c> folder loads by name.
/// </summary>
public sealed class ClipTextModelWithProjection : nn.Module<Tensor, ClipTextOutput>
{
    private readonly ClipTextTransformer text_model;
    private readonly Linear text_projection;

    /// <summary>Builds the model with freshly initialised weights of the given dtype on the given device.</summary>
    /// <exception cref="InvalidDataException">The config's sizes do not fit together.</exception>
    public ClipTextModelWithProjection(ClipTextConfig config, ScalarType dtype, Device device)
        : base(nameof(ClipTextModelWithProjection))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("CLIP text config");
        Config = config;
        text_model = new ClipTextTransformer(config, dtype, device);
        text_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: device,
            dtype: dtype);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>Encodes token ids.</summary>
    /// <param name="inputIds">int64 [B, L] on the model's device, L at most max_position_embeddings.</param>
    public override ClipTextOutput forward(Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        (List<Tensor> hiddenStates, Tensor lastHiddenState, Tensor pooled) = text_model.Forward(inputIds);
        using (pooled)
        {
            return new ClipTextOutput(hiddenStates, lastHiddenState, text_projection.forward(pooled));
        }
    }
}
