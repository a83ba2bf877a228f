using LatentLab.Weights;
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
        : this(config, new LayerFactory(dtype, device, initialise: true))
    {
    }

    private ClipTextModelWithProjection(ClipTextConfig config, LayerFactory factory)
        : base(nameof(ClipTextModelWithProjection))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("CLIP text config");
        Config = config;
        text_model = new ClipTextTransformer(config, factory);
        text_projection = factory.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>
    /// Loads a transformers <c>CLIPTextModelWithProjection</c> folder (<c>config.json</c> and safetensors weights,
    /// possibly sharded), holding the weights in <paramref name="dtype"/> on <paramref name="device"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No config.json.</exception>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">
    /// A broken file, or weights that do not fit the config: missing, unexpected and mis-shaped tensors by name.
    /// </exception>
    /// <exception cref="NotSupportedException">The config names another model class or an unknown option.</exception>
    public static ClipTextModelWithProjection Load(string folder, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ClipTextConfig config = ClipTextConfig.Load(Path.Combine(folder, "config.json"));
        using TensorSource source = TensorSource.OpenFolder(folder);
        return FromWeights(config, source, dtype, device);
    }

    /// <summary>
    /// Builds the model for <paramref name="config"/> and loads every weight from <paramref name="source"/> by its
    /// transformers name (a folder, or a view renaming a single-file checkpoint's keys).
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, unexpected and mis-shaped tensors, by name.</exception>
    public static ClipTextModelWithProjection FromWeights(ClipTextConfig config, ITensorSource source,
        ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(source);
        config.Validate(source.Description);
        // Every tensor is overwritten by strict loading: skip the random initialisation.
        var model = new ClipTextModelWithProjection(config, new LayerFactory(dtype, device, initialise: false));
        try
        {
            // Older checkpoints also store the constant position ids buffer; it is rebuilt here, not loaded.
            ModuleWeights.Load(model, source,
                name => name == "text_model.embeddings.position_ids" ? null : name);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

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
