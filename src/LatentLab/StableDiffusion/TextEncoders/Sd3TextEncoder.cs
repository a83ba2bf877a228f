using System.Text.Json;
using LatentLab.StableDiffusion.Tokenizers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// Stable Diffusion 3's prompt encoder: two CLIP text models and optionally T5, combined as diffusers'
/// <c>StableDiffusion3Pipeline.encode_prompt</c> does (clip_skip none, one image per prompt).
/// </summary>
/// <remarks>
/// Sequence: the penultimate hidden states of CLIP-L and CLIP-G (77 tokens each) are concatenated along the width,
/// zero-padded to T5's width, and followed by T5's last hidden state for <c>MaxT5SequenceLength</c> tokens.
/// Pooled: the two CLIP models' projected end-token states, concatenated. Neither CLIP nor T5 gets an attention
/// mask: padding tokens take part, as in the reference.
/// </remarks>
public sealed partial class Sd3TextEncoder : IDisposable
{
    /// <summary>Weight dtypes supported.</summary>
    public static readonly IReadOnlyList<ScalarType> SupportedDTypes = [ScalarType.Float32, ScalarType.BFloat16];

    /// <summary>Largest T5 sequence length accepted (T5's tokenizer limit, as in the reference pipeline).</summary>
    public const int MaxT5SequenceLengthLimit = 512;

    /// <summary>diffusers' default <c>joint_attention_dim</c> of SD3Transformer2DModel.</summary>
    private const int DefaultJointAttentionDim = 4096;

    private readonly ClipTokenizer _clipLTokenizer;
    private readonly ClipTokenizer _clipGTokenizer;
    private readonly ClipTextModelWithProjection _clipL;
    private readonly ClipTextModelWithProjection _clipG;
    private T5Tokenizer? _t5Tokenizer;
    private T5EncoderModel? _t5;
    private readonly Sd3TextEncoderOptions _options;
    private readonly ScalarType _dtype;
    private readonly Device _device;
    private readonly ILogger _logger;
    private bool _disposed;

    private Sd3TextEncoder(ClipTokenizer clipLTokenizer, ClipTokenizer clipGTokenizer,
        ClipTextModelWithProjection clipL, ClipTextModelWithProjection clipG, T5Tokenizer? t5Tokenizer,
        T5EncoderModel? t5, int jointWidth,
        Sd3TextEncoderOptions options, ScalarType dtype, Device device, ILogger logger)
    {
        _clipLTokenizer = clipLTokenizer;
        _clipGTokenizer = clipGTokenizer;
        _clipL = clipL;
        _clipG = clipG;
        _t5Tokenizer = t5Tokenizer;
        _t5 = t5;
        JointWidth = jointWidth;
        _options = options;
        _dtype = dtype;
        _device = device;
        _logger = logger;
    }

    /// <summary>
    /// Width of the joint sequence (D_joint): T5's d_model, or the transformer's joint_attention_dim without T5.
    /// </summary>
    public int JointWidth { get; }

    /// <summary>Width of the pooled embedding (D_pooled): the two CLIP projection widths added.</summary>
    public int PooledWidth => _clipL.Config.ProjectionDim + _clipG.Config.ProjectionDim;

    /// <summary>
    /// Number of tokens in the joint sequence: CLIP's 77 plus T5's <see cref="T5PartLength"/>.
    /// </summary>
    public int SequenceLength => _clipLTokenizer.MaxLength + T5PartLength;

    /// <summary>
    /// Tokens in the T5 part: the configured maximum T5 length with T5, else CLIP's 77. The reference pipeline
    /// (diffusers) sizes the zeros that stand in for T5 by the CLIP tokenizer's length, not by
    /// max_sequence_length, and those zero tokens take part in attention, so matching it matters for the image.
    /// </summary>
    public int T5PartLength => HasT5 ? _options.MaxT5SequenceLength : _clipLTokenizer.MaxLength;

    /// <summary>Whether T5 is loaded (false when switched off, absent from the folder, or released).</summary>
    public bool HasT5 => _t5 is not null;

    /// <summary>
    /// Loads the tokenizers and text encoders of a diffusers Stable Diffusion 3 folder: <c>tokenizer</c>,
    /// <c>tokenizer_2</c>, <c>text_encoder</c>, <c>text_encoder_2</c>, and, when
    /// <see cref="Sd3TextEncoderOptions.UseT5"/> is on and the folder has them, <c>tokenizer_3</c> and
    /// <c>text_encoder_3</c>.
    /// </summary>
    /// <param name="modelFolder">The model folder (the one holding model_index.json).</param>
    /// <param name="options">T5 on or off, T5 sequence length.</param>
    /// <param name="dtype">Weight and output dtype: float32 or bfloat16 (norms and softmax always in float32).</param>
    /// <param name="device">Where weights live and encoding runs.</param>
    /// <param name="loggerFactory">Optional; logs what was loaded, a missing T5, and truncated prompts.</param>
    /// <exception cref="ArgumentException">Unsupported dtype, or a T5 length outside 1..512.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder or a required component folder is missing.</exception>
    /// <exception cref="FileNotFoundException">A required file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is broken, or weights do not fit their config (named).</exception>
    /// <exception cref="NotSupportedException">A config names an unsupported class or option.</exception>
    public static Sd3TextEncoder Load(string modelFolder, Sd3TextEncoderOptions options, ScalarType dtype,
        Device device, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        if (!SupportedDTypes.Contains(dtype))
        {
            throw new ArgumentException(
                $"dtype {dtype} is not supported for the text encoders; supported: " +
                $"{string.Join(", ", SupportedDTypes)}.",
                nameof(dtype));
        }
        if (options.MaxT5SequenceLength is < 1 or > MaxT5SequenceLengthLimit)
        {
            throw new ArgumentException(
                $"MaxT5SequenceLength {options.MaxT5SequenceLength} is out of range; expected 1 to " +
                $"{MaxT5SequenceLengthLimit}.", nameof(options));
        }
        if (!Directory.Exists(modelFolder))
        {
            throw new DirectoryNotFoundException($"{modelFolder}: no such model folder.");
        }
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Sd3TextEncoder>();

        ClipTokenizer clipLTokenizer = ClipTokenizer.Load(Component(modelFolder, "tokenizer"));
        ClipTokenizer clipGTokenizer = ClipTokenizer.Load(Component(modelFolder, "tokenizer_2"));
        if (clipLTokenizer.MaxLength != clipGTokenizer.MaxLength)
        {
            throw new InvalidDataException(
                $"{modelFolder}: tokenizer and tokenizer_2 give {clipLTokenizer.MaxLength} and " +
                $"{clipGTokenizer.MaxLength} tokens; the two CLIP sequences must have one length.");
        }

        var owned = new List<IDisposable>();
        try
        {
            ClipTextModelWithProjection clipL =
                ClipTextModelWithProjection.Load(Component(modelFolder, "text_encoder"), dtype, device);
            owned.Add(clipL);
            ClipTextModelWithProjection clipG =
                ClipTextModelWithProjection.Load(Component(modelFolder, "text_encoder_2"), dtype, device);
            owned.Add(clipG);

            T5Tokenizer? t5Tokenizer = null;
            T5EncoderModel? t5 = null;
            string t5Folder = Path.Combine(modelFolder, "text_encoder_3");
            if (options.UseT5 && Directory.Exists(t5Folder))
            {
                t5Tokenizer = T5Tokenizer.Load(Component(modelFolder, "tokenizer_3"));
                t5 = T5EncoderModel.Load(t5Folder, dtype, device);
                owned.Add(t5);
            }
            else if (options.UseT5)
            {
                LogT5Missing(logger, modelFolder);
            }

            int clipWidth = clipL.Config.HiddenSize + clipG.Config.HiddenSize;
            int jointWidth = t5?.Config.DModel ?? ReadJointAttentionDim(modelFolder);
            if (clipWidth > jointWidth)
            {
                throw new InvalidDataException(
                    $"{modelFolder}: the CLIP hidden sizes add up to {clipWidth}, wider than the joint width " +
                    $"{jointWidth} they are padded to.");
            }
            LogLoaded(logger, modelFolder, t5 is not null, dtype, device.type);
            return new Sd3TextEncoder(clipLTokenizer, clipGTokenizer, clipL, clipG, t5Tokenizer, t5, jointWidth,
                options, dtype, device, logger);
        }
        catch
        {
            owned.ForEach(component => component.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Encodes prompts as diffusers' <c>encode_prompt</c> does (the same prompt for all three encoders).
    /// </summary>
    /// <returns>
    /// Sequence [B, 77 + T5 length, D_joint] and pooled [B, D_pooled], in the encoder's dtype and device.
    /// </returns>
    /// <exception cref="ArgumentException">No prompts.</exception>
    public Sd3PromptEmbedding Encode(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("at least one prompt is needed.", nameof(prompts));
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_logger.IsEnabled(LogLevel.Warning))
        {
            foreach (string prompt in prompts)
            {
                string dropped = string.Join(" ", TruncatedWords(prompt));
                if (dropped.Length > 0) LogTruncated(_logger, _clipLTokenizer.MaxLength, dropped);
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        // 1. CLIP-L and CLIP-G: penultimate hidden states [B, 77, D_L] and [B, 77, D_G], projected pooled states.
        (Tensor clipLStates, Tensor clipLPooled) = EncodeClip(_clipLTokenizer, _clipL, prompts);
        (Tensor clipGStates, Tensor clipGPooled) = EncodeClip(_clipGTokenizer, _clipG, prompts);
        Tensor clipStates = cat([clipLStates, clipGStates], -1); // [B, 77, D_L + D_G]
        clipStates = nn.functional.pad(clipStates, [0, JointWidth - clipStates.shape[2]]); // [B, 77, D_joint]

        // 2. T5's last hidden state [B, T5 length, D_joint], or without T5 zeros [B, 77, D_joint] (see T5PartLength).
        Tensor t5States = _t5 is not null && _t5Tokenizer is not null
            ? EncodeT5(_t5Tokenizer, _t5, prompts)
            : zeros(prompts.Count, T5PartLength, JointWidth, _dtype, _device);

        // 3. Joint sequence along the tokens, pooled along the width.
        Tensor sequence = cat([clipStates, t5States.to(clipStates.dtype)], 1); // [B, 77 + T5 length, D_joint]
        Tensor pooled = cat([clipLPooled, clipGPooled], -1); // [B, D_pooled]
        return new Sd3PromptEmbedding(sequence.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The words of <paramref name="prompt"/> that CLIP's 77-token limit drops (whitespace cleaned, original case);
    /// empty if the prompt fits. T5 reads further (up to its own length) but CLIP does not.
    /// </summary>
    public IReadOnlyList<string> TruncatedWords(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return _clipLTokenizer.TruncatedWords(prompt);
    }

    /// <summary>
    /// Frees T5's weights (most of the text side's memory). Afterwards the T5 part of every embedding is zeros, as
    /// if <see cref="Sd3TextEncoderOptions.UseT5"/> were off. Calling it again does nothing.
    /// </summary>
    public void ReleaseT5()
    {
        if (_t5 is null) return;
        _t5.Dispose();
        _t5 = null;
        _t5Tokenizer = null;
        LogT5Released(_logger);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _clipL.Dispose();
        _clipG.Dispose();
        _t5?.Dispose();
        _t5 = null;
    }

    private (Tensor States, Tensor Pooled) EncodeClip(ClipTokenizer tokenizer, ClipTextModelWithProjection model,
        IReadOnlyList<string> prompts)
    {
        Tensor ids = TokenizedText.StackIds(prompts.Select(tokenizer.Encode).ToList()).to(_device); // [B, 77]
        ClipTextOutput output = model.forward(ids);
        // clip_skip none: the penultimate layer's output, before the final layer norm.
        return (output.HiddenStates[^2], output.TextEmbeds);
    }

    private Tensor EncodeT5(T5Tokenizer tokenizer, T5EncoderModel model, IReadOnlyList<string> prompts)
    {
        List<TokenizedText> tokens = prompts.Select(prompt => tokenizer.Encode(prompt, _options.MaxT5SequenceLength))
            .ToList();
        Tensor ids = TokenizedText.StackIds(tokens).to(_device); // [B, T5 length]
        return model.forward(ids).LastHiddenState; // [B, T5 length, d_model]
    }

    private static string Component(string modelFolder, string name)
    {
        string folder = Path.Combine(modelFolder, name);
        return Directory.Exists(folder)
            ? folder
            : throw new DirectoryNotFoundException(
                $"{modelFolder}: no {name}/ folder; a Stable Diffusion 3 folder in the diffusers layout has one.");
    }

    /// <summary>The transformer's joint_attention_dim, the width of the zeros that stand in for T5.</summary>
    private static int ReadJointAttentionDim(string modelFolder)
    {
        string path = Path.Combine(modelFolder, "transformer", "config.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{path}: needed without T5 to know the width of the prompt embedding (joint_attention_dim).", path);
        }
        try
        {
            using JsonDocument config = JsonDocument.Parse(File.ReadAllBytes(path));
            return config.RootElement.TryGetProperty("joint_attention_dim", out JsonElement width)
                ? width.GetInt32()
                : DefaultJointAttentionDim;
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: joint_attention_dim is not readable ({error.Message}).", error);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Text encoders loaded from {Folder} (T5: {WithT5}, dtype {DType}, device {Device})")]
    private static partial void LogLoaded(ILogger logger, string folder, bool withT5, ScalarType dtype,
        DeviceType device);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "{Folder} has no text_encoder_3: the T5 part of prompt embeddings will be zeros")]
    private static partial void LogT5Missing(ILogger logger, string folder);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "T5 released: the T5 part of prompt embeddings is zeros from now on")]
    private static partial void LogT5Released(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "Prompt longer than CLIP's {MaxLength} tokens; dropped: {Dropped}")]
    private static partial void LogTruncated(ILogger logger, int maxLength, string dropped);
}
