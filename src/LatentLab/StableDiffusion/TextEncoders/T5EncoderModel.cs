using LatentLab.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// transformers' <c>T5EncoderModel</c>: the shared token embedding and the encoder stack, without attention mask
/// (Stable Diffusion 3 lets T5 attend to its padding too). Fields mirror the checkpoint keys (<c>shared.weight</c>,
/// <c>encoder.*</c>), so a diffusers <c>text_encoder_3</c> folder loads by name.
/// </summary>
public sealed class T5EncoderModel : nn.Module<Tensor, T5EncoderOutput>
{
    private readonly Embedding shared;
    private readonly T5Stack encoder;

    /// <summary>Builds the model with freshly initialised weights of the given dtype on the given device.</summary>
    /// <exception cref="InvalidDataException">The config's sizes are not positive.</exception>
    /// <exception cref="NotSupportedException">The config's feed-forward kind is not supported.</exception>
    public T5EncoderModel(T5EncoderConfig config, ScalarType dtype, Device device)
        : this(config, new LayerFactory(dtype, device, initialise: true))
    {
    }

    private T5EncoderModel(T5EncoderConfig config, LayerFactory factory) : base(nameof(T5EncoderModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("T5 config");
        Config = config;
        shared = factory.Embedding(config.VocabSize, config.DModel);
        encoder = new T5Stack(config, factory);
        RegisterComponents();
    }

    public T5EncoderConfig Config { get; }

    /// <summary>
    /// Loads a transformers <c>T5EncoderModel</c> folder (<c>config.json</c> and safetensors weights, possibly
    /// sharded), holding the weights in <paramref name="dtype"/> on <paramref name="device"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No config.json.</exception>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">
    /// A broken file, or weights that do not fit the config: missing, unexpected and mis-shaped tensors by name.
    /// </exception>
    /// <exception cref="NotSupportedException">The config names another model class or an unknown option.</exception>
    public static T5EncoderModel Load(string folder, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(folder);
        T5EncoderConfig config = T5EncoderConfig.Load(Path.Combine(folder, "config.json"));
        using TensorSource source = TensorSource.OpenFolder(folder);
        return FromWeights(config, source, dtype, device);
    }

    /// <summary>
    /// Builds the model for <paramref name="config"/> and loads every weight from <paramref name="source"/> by its
    /// transformers name (a folder, or a view renaming a single-file checkpoint's keys).
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, unexpected and mis-shaped tensors, by name.</exception>
    public static T5EncoderModel FromWeights(T5EncoderConfig config, ITensorSource source, ScalarType dtype,
        Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(source);
        config.Validate(source.Description);
        // Every tensor is overwritten by strict loading: skip the random initialisation.
        var model = new T5EncoderModel(config, new LayerFactory(dtype, device, initialise: false));
        try
        {
            // encoder.embed_tokens is the same matrix as shared (tied); files keep one or both names.
            bool hasShared = source.Names.Contains("shared.weight");
            ModuleWeights.Load(model, source, name => name == "encoder.embed_tokens.weight"
                ? hasShared ? null : "shared.weight"
                : name);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>Encodes token ids [B, L] (int64, on the model's device); only the last hidden state.</summary>
    public override T5EncoderOutput forward(Tensor inputIds) => Encode(inputIds, keepHiddenStates: false);

    /// <summary>Encodes token ids [B, L], optionally keeping every hidden state (see
    /// <see cref="T5EncoderOutput.HiddenStates"/>).</summary>
    public T5EncoderOutput Encode(Tensor inputIds, bool keepHiddenStates)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        Tensor embeddings = shared.forward(inputIds); // [B, L, d_model]
        (Tensor last, List<Tensor>? hiddenStates) = encoder.Forward(embeddings, keepHiddenStates);
        if (!keepHiddenStates) embeddings.Dispose();
        return new T5EncoderOutput(last, hiddenStates);
    }
}
