using LatentLab.StableDiffusion.TextEncoders;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

// The text side of the pipeline: loading with the text encoders, EncodeText, and the whole Generate.
public sealed partial class StableDiffusion3
{
    private Sd3TextEncoder? _textEncoder;
    private bool _textEncodersReleased;

    /// <summary>Whether the T5 encoder is loaded (off by option, absent from the folder, or released: false).</summary>
    public bool HasT5 => _textEncoder?.HasT5 ?? false;

    /// <summary>
    /// Loads a diffusers Stable Diffusion 3 folder (<c>model_index.json</c>, <c>transformer/</c>, <c>vae/</c>,
    /// <c>scheduler/</c>, <c>text_encoder*/</c>, <c>tokenizer*/</c>), every size read from its configs.
    /// </summary>
    /// <param name="modelFolder">The folder holding model_index.json.</param>
    /// <param name="options">dtype, device, T5 on or off, T5 length; defaults when null.</param>
    /// <param name="loggerFactory">Optional; logs what was loaded, a drawn seed, a missing T5, truncated prompts.</param>
    /// <exception cref="DirectoryNotFoundException">No such folder, or a component folder missing.</exception>
    /// <exception cref="FileNotFoundException">model_index.json or another required file missing.</exception>
    /// <exception cref="InvalidDataException">A broken file, or weights that do not fit (named).</exception>
    /// <exception cref="NotSupportedException">Another pipeline, or a component class or option not implemented;
    /// the message lists what is supported.</exception>
    public static StableDiffusion3 Load(string modelFolder, StableDiffusion3Options? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        options ??= new StableDiffusion3Options();
        // With T5 released after encoding, the transformer is read only after that, so the two largest components
        // (about 9.5 and 4 GB in bfloat16 for SD3 Medium) are never in memory together.
        StableDiffusion3 pipeline = LoadImageSide(modelFolder, options, loggerFactory,
            deferTransformer: options.ReleaseT5AfterEncoding);
        try
        {
            pipeline._textEncoder = Sd3TextEncoder.Load(modelFolder,
                new Sd3TextEncoderOptions(options.UseT5, options.MaxT5SequenceLength), options.DType,
                pipeline._device, loggerFactory);
            return pipeline;
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    /// <summary>Encodes one prompt and its negative prompt (the chapter's <c>encode_text</c>).</summary>
    /// <returns>The four conditioning tensors, batch 1.</returns>
    public Sd3TextEmbeddings EncodeText(string prompt, string negativePrompt = "") =>
        EncodeText([prompt], [negativePrompt]);

    /// <summary>Encodes prompts and as many negative prompts (null: empty negatives, as the reference).</summary>
    /// <exception cref="InvalidOperationException">The pipeline was loaded without text encoders.</exception>
    /// <exception cref="ArgumentException">No prompts, or a different number of negative prompts.</exception>
    public Sd3TextEmbeddings EncodeText(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Sd3TextEncoder encoder = _textEncoder ?? throw new InvalidOperationException(_textEncodersReleased
            ? "the text encoders were released (ReleaseTextEncoders); encode prompts before releasing them"
            : "this pipeline was loaded without its text encoders; use Load");
        if (prompts.Count == 0) throw new ArgumentException("at least one prompt is needed", nameof(prompts));
        IReadOnlyList<string> negatives = negativePrompts ?? Enumerable.Repeat("", prompts.Count).ToList();
        if (negatives.Count != prompts.Count)
        {
            throw new ArgumentException(
                $"{negatives.Count} negative prompts for {prompts.Count} prompts; give one each or none",
                nameof(negativePrompts));
        }

        // Prompts and negatives go through the encoders as one batch [prompts..., negatives...].
        using var scope = NewDisposeScope();
        using Sd3PromptEmbedding encoded = encoder.Encode([.. prompts, .. negatives]);
        int count = prompts.Count;
        var embeddings = new Sd3TextEmbeddings(
            encoded.Sequence[..count].clone().MoveToOuterDisposeScope(),
            encoded.Sequence[count..].clone().MoveToOuterDisposeScope(),
            encoded.Pooled[..count].clone().MoveToOuterDisposeScope(),
            encoded.Pooled[count..].clone().MoveToOuterDisposeScope());
        if (_options.ReleaseT5AfterEncoding) encoder.ReleaseT5();
        return embeddings;
    }

    /// <summary>The words of <paramref name="prompt"/> beyond CLIP's 77 tokens (dropped); empty if it fits.</summary>
    public IReadOnlyList<string> TruncatedWords(string prompt) =>
        _textEncoder?.TruncatedWords(prompt)
        ?? throw new InvalidOperationException("this pipeline was loaded without its text encoders; use Load");

    /// <summary>Frees the T5 encoder now; later prompts get zeros for T5's part of the embedding.</summary>
    public void ReleaseT5() => _textEncoder?.ReleaseT5();

    /// <summary>
    /// Frees all text encoders (about 1.6 GB for the two CLIPs in bfloat16, plus T5 if still loaded) once the
    /// prompts are encoded; <see cref="EncodeText(string, string)"/> is unavailable afterwards.
    /// </summary>
    public void ReleaseTextEncoders()
    {
        if (_textEncoder is null) return;
        _textEncoder.Dispose();
        _textEncoder = null;
        _textEncodersReleased = true;
    }

    /// <summary>Text to images: encode, denoise <paramref name="numSteps"/> times, decode.</summary>
    /// <param name="prompts">One image per prompt.</param>
    /// <param name="negativePrompts">One per prompt, or null for empty ones.</param>
    /// <param name="numSteps">Denoising steps, at least 1. Default 28.</param>
    /// <param name="guidanceScale">Classifier-free guidance, at least 0; 1 or less switches it off. Default 7.</param>
    /// <param name="seed">Seed of the initial noise (PyTorch-compatible); drawn and returned when null.</param>
    /// <param name="width">Multiple of <see cref="SizeMultiple"/>; default <see cref="DefaultSize"/>.</param>
    /// <param name="height">Multiple of <see cref="SizeMultiple"/>; default <see cref="DefaultSize"/>.</param>
    /// <param name="returnLatents">Keep the final latents in the result.</param>
    /// <param name="progress">Told after each denoising step.</param>
    /// <param name="cancellationToken">Checked before each step.</param>
    public Sd3GenerationResult Generate(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts = null,
        int numSteps = 28, double guidanceScale = 7.0, long? seed = null, int? width = null, int? height = null,
        bool returnLatents = false, IProgress<Sd3StepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numSteps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(guidanceScale);
        CheckSize(width ?? DefaultSize, height ?? DefaultSize);
        cancellationToken.ThrowIfCancellationRequested();
        using Sd3TextEmbeddings embeddings = EncodeText(prompts, negativePrompts);
        return GenerateFromEmbeddings(embeddings, numSteps, guidanceScale, seed, width, height, null, returnLatents,
            progress, cancellationToken);
    }

    /// <summary>One prompt to one image; see the batched overload.</summary>
    public Sd3GenerationResult Generate(string prompt, string negativePrompt = "", int numSteps = 28,
        double guidanceScale = 7.0, long? seed = null, int? width = null, int? height = null,
        IProgress<Sd3StepProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Generate([prompt], [negativePrompt], numSteps, guidanceScale, seed, width, height, false, progress,
            cancellationToken);

    partial void DisposeTextSide()
    {
        _textEncoder?.Dispose();
        _textEncoder = null;
    }
}
