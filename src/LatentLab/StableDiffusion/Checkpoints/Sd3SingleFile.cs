using LatentLab.StableDiffusion.Autoencoder;
using LatentLab.StableDiffusion.Transformer;
using LatentLab.Weights;

namespace LatentLab.StableDiffusion.Checkpoints;

/// <summary>
/// One of Stability's single-file Stable Diffusion 3 / 3.5 checkpoints (<c>sd3_medium.safetensors</c>,
/// <c>sd3_medium_incl_clips*.safetensors</c>, <c>sd3.5_medium.safetensors</c>, <c>sd3.5_large.safetensors</c>),
/// memory-mapped, with each component's tensors as a lazy view under diffusers' names:
/// <c>model.diffusion_model.*</c> (the MMDiT), <c>first_stage_model.*</c> (the VAE), and when included
/// <c>text_encoders.clip_l.transformer.*</c>, <c>text_encoders.clip_g.transformer.*</c>,
/// <c>text_encoders.t5xxl.transformer.*</c> (already in transformers' layout; float8 T5 weights are widened on read).
/// </summary>
public sealed class Sd3SingleFile : IDisposable
{
    /// <summary>Prefix of the CLIP ViT-L text model's tensors.</summary>
    public const string ClipLPrefix = "text_encoders.clip_l.transformer.";

    /// <summary>Prefix of the OpenCLIP ViT-bigG text model's tensors.</summary>
    public const string ClipGPrefix = "text_encoders.clip_g.transformer.";

    /// <summary>Prefix of the T5-XXL encoder's tensors.</summary>
    public const string T5Prefix = "text_encoders.t5xxl.transformer.";

    private readonly TensorSource _file;

    private Sd3SingleFile(string path, TensorSource file)
    {
        Path = path;
        _file = file;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>Whether the file includes the CLIP-L text encoder.</summary>
    public bool HasClipL => HasPrefix(ClipLPrefix);

    /// <summary>Whether the file includes the CLIP-G text encoder.</summary>
    public bool HasClipG => HasPrefix(ClipGPrefix);

    /// <summary>Whether the file includes the T5 encoder.</summary>
    public bool HasT5 => HasPrefix(T5Prefix);

    /// <summary>Opens (memory-maps) a single-file checkpoint and checks it holds an MMDiT and a VAE.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a safetensors file, or no SD3 transformer and VAE in it.</exception>
    public static Sd3SingleFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint file.", path);
        TensorSource file = TensorSource.OpenFile(path);
        if (!MmditCheckpointLayout.IsPresent(file) || !LdmVaeCheckpointLayout.IsPresent(file))
        {
            file.Dispose();
            throw new InvalidDataException(
                $"{path}: not a Stable Diffusion 3 single-file checkpoint (expected {MmditCheckpointLayout.Prefix}* " +
                $"and {LdmVaeCheckpointLayout.Prefix}* tensors); for a diffusers folder pass the folder instead.");
        }
        return new Sd3SingleFile(path, file);
    }

    /// <summary>
    /// The transformer's sizes, read from the tensors' shapes (see <see cref="MmditCheckpointLayout"/>); without qk
    /// norm the head width is <paramref name="headDim"/>, 64 (every release's) when null.
    /// </summary>
    public SD3TransformerConfig InferTransformerConfig(int? headDim = null) =>
        MmditCheckpointLayout.InferConfig(_file, headDim);

    /// <summary>The VAE's sizes, read from the decoder's shapes, with <paramref name="normNumGroups"/> groups.</summary>
    public AutoencoderKLConfig InferVaeConfig(int normNumGroups = 32) =>
        LdmVaeCheckpointLayout.InferConfig(_file, normNumGroups);

    /// <summary>The transformer's tensors under diffusers' names, read lazily from the file.</summary>
    public ITensorSource TransformerWeights() => MmditCheckpointLayout.View(_file);

    /// <summary>The VAE's tensors under diffusers' names, read lazily from the file.</summary>
    public ITensorSource VaeWeights() => LdmVaeCheckpointLayout.View(_file);

    /// <summary>CLIP-L's tensors under transformers' names, or null when the file has none.</summary>
    public ITensorSource? ClipLWeights() => Component(ClipLPrefix);

    /// <summary>CLIP-G's tensors under transformers' names, or null when the file has none.</summary>
    public ITensorSource? ClipGWeights() => Component(ClipGPrefix);

    /// <summary>T5's tensors under transformers' names (float8 widened on read), or null when the file has none.</summary>
    public ITensorSource? T5Weights() => Component(T5Prefix);

    private bool HasPrefix(string prefix) =>
        _file.Names.Any(name => name.StartsWith(prefix, StringComparison.Ordinal));

    private TensorView? Component(string prefix)
    {
        if (!HasPrefix(prefix)) return null;
        var view = new TensorView(_file, $"{Path} ({prefix}*)");
        foreach (string name in _file.Names.Where(name => name.StartsWith(prefix, StringComparison.Ordinal)))
            view.Rename(name, name[prefix.Length..]);
        return view;
    }

    /// <summary>Unmaps the file; views taken from it must not be read afterwards.</summary>
    public void Dispose() => _file.Dispose();
}
