using System.Globalization;
using System.Text.RegularExpressions;
using LatentLab.StableDiffusion.Autoencoder;
using LatentLab.Weights;

namespace LatentLab.StableDiffusion.Checkpoints;

/// <summary>
/// The original latent-diffusion VAE layout (<c>first_stage_model.*</c> in Stability's single files) as diffusers'
/// <c>AutoencoderKL</c> names, for the decoder this port has: <c>up.N</c> levels in reversed order as
/// <c>up_blocks</c>, <c>block.M</c> as <c>resnets.M</c>, <c>nin_shortcut</c> as <c>conv_shortcut</c>,
/// <c>mid.block_1/2</c> and <c>mid.attn_1</c> (its q, k, v, proj_out 1x1 convolutions become linear weights),
/// <c>norm_out</c> as <c>conv_norm_out</c>. Facts from diffusers' <c>convert_ldm_vae_checkpoint</c>.
/// </summary>
/// <remarks>
/// The encoder's and <c>quant_conv</c>'s tensors keep their original names: <see cref="AutoencoderKL"/> has no
/// encoder (text-to-image needs none) and skips everything under <c>encoder.</c> and <c>quant_conv.</c>.
/// </remarks>
internal static partial class LdmVaeCheckpointLayout
{
    /// <summary>Key prefix of the VAE in Stability's single files.</summary>
    public const string Prefix = "first_stage_model.";

    /// <summary>SD3's 16-channel VAE latent statistics (diffusers' vae/config.json of every SD3 / 3.5 release).</summary>
    public const double Sd3ScalingFactor = 1.5305;

    /// <summary>See <see cref="Sd3ScalingFactor"/>.</summary>
    public const double Sd3ShiftFactor = 0.0609;

    private static readonly Dictionary<string, string> AttentionParts = new(StringComparer.Ordinal)
    {
        ["norm"] = "group_norm",
        ["q"] = "to_q",
        ["k"] = "to_k",
        ["v"] = "to_v",
        ["proj_out"] = "to_out.0",
    };

    [GeneratedRegex(@"^decoder\.up\.(\d+)\.(block\.(\d+)|upsample)\.(.+)$")]
    private static partial Regex UpKey();

    /// <summary>Whether the file holds a VAE in this layout.</summary>
    public static bool IsPresent(ITensorSource file) => file.Names.Contains(Prefix + "decoder.conv_in.weight");

    /// <summary>The VAE's tensors under diffusers' names (unknown ones keep their original name).</summary>
    public static TensorView View(ITensorSource file)
    {
        int levels = UpLevels(file);
        var view = new TensorView(file, $"{file.Description} ({Prefix}*)");
        foreach (string name in file.Names.Where(name => name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            string key = name[Prefix.Length..];
            if (key.StartsWith("decoder.mid.attn_1.", StringComparison.Ordinal))
            {
                string[] parts = key["decoder.mid.attn_1.".Length..].Split('.', 2); // module, weight|bias
                string target = AttentionParts.TryGetValue(parts[0], out string? renamed)
                    ? $"decoder.mid_block.attentions.0.{renamed}.{parts[1]}"
                    : key;
                view.SqueezeConv1x1(name, target);
            }
            else if (key.StartsWith("decoder.mid.block_", StringComparison.Ordinal))
            {
                int index = key["decoder.mid.block_".Length] - '1';
                string rest = key[("decoder.mid.block_".Length + 2)..];
                view.Rename(name, $"decoder.mid_block.resnets.{index}.{Resnet(rest)}");
            }
            else if (UpKey().Match(key) is { Success: true } match)
            {
                int level = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                string rest = match.Groups[4].Value;
                string block = $"decoder.up_blocks.{levels - 1 - level}.";
                view.Rename(name, match.Groups[3].Success
                    ? $"{block}resnets.{match.Groups[3].Value}.{Resnet(rest)}"
                    : $"{block}upsamplers.0.{rest}");
            }
            else if (key.StartsWith("decoder.norm_out.", StringComparison.Ordinal))
            {
                view.Rename(name, "decoder.conv_norm_out." + key["decoder.norm_out.".Length..]);
            }
            else
            {
                view.Rename(name, key);   // conv_in, conv_out, post_quant_conv, and the encoder's tensors
            }
        }
        return view;
    }

    /// <summary>
    /// The VAE's sizes from its decoder's shapes: latent channels from <c>conv_in</c>, one level per <c>up.N</c>
    /// with its channels, resnets per level, the middle attention and <c>post_quant_conv</c> by presence. What
    /// shapes cannot tell takes SD3's values: <paramref name="normNumGroups"/> groups per norm (32 in every release),
    /// and 16-channel latents' scaling and shift.
    /// </summary>
    /// <exception cref="InvalidDataException">Shapes that do not make this decoder.</exception>
    /// <exception cref="NotSupportedException">Latents of other than 16 channels (not an SD3 VAE).</exception>
    public static AutoencoderKLConfig InferConfig(ITensorSource file, int normNumGroups = 32)
    {
        int levels = UpLevels(file);
        var channels = new int[levels];
        for (int level = 0; level < levels; level++)
            channels[level] = (int)Shape(file, $"decoder.up.{level}.block.0.conv1.weight")[0];
        int resnets = file.Names.Count(name =>
            name.StartsWith(Prefix + "decoder.up.0.block.", StringComparison.Ordinal) && name.EndsWith(".conv1.weight", StringComparison.Ordinal));
        int latentChannels = (int)Shape(file, "decoder.conv_in.weight")[1];
        if (latentChannels != 16)
        {
            throw new NotSupportedException(
                $"{file.Description}: a VAE with {latentChannels} latent channels is not an SD3 VAE; supported: 16.");
        }
        var config = new AutoencoderKLConfig(
            InChannels: 3,
            OutChannels: (int)Shape(file, "decoder.conv_out.weight")[0],
            BlockOutChannels: channels,
            LayersPerBlock: resnets - 1,
            LatentChannels: latentChannels,
            NormNumGroups: normNumGroups,
            ScalingFactor: Sd3ScalingFactor,
            ShiftFactor: Sd3ShiftFactor,
            UsePostQuantConv: file.Names.Contains(Prefix + "post_quant_conv.weight"),
            MidBlockAddAttention: file.Names.Contains(Prefix + "decoder.mid.attn_1.q.weight"));
        config.Validate(file.Description);
        return config;
    }

    /// <summary>Whether a diffusers config describes the same decoder tensors as the file.</summary>
    public static bool Fits(AutoencoderKLConfig given, AutoencoderKLConfig inferred) =>
        given.ResolvedBlockOutChannels.SequenceEqual(inferred.ResolvedBlockOutChannels) &&
        given.LayersPerBlock == inferred.LayersPerBlock && given.LatentChannels == inferred.LatentChannels &&
        given.OutChannels == inferred.OutChannels && given.UsePostQuantConv == inferred.UsePostQuantConv &&
        given.MidBlockAddAttention == inferred.MidBlockAddAttention;

    private static string Resnet(string rest) =>
        rest.StartsWith("nin_shortcut.", StringComparison.Ordinal) ? "conv_shortcut." + rest["nin_shortcut.".Length..] : rest;

    private static int UpLevels(ITensorSource file)
    {
        var levels = new HashSet<int>();
        foreach (string name in file.Names)
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            Match match = UpKey().Match(name[Prefix.Length..]);
            if (match.Success) levels.Add(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        if (levels.Count == 0 || levels.Max() != levels.Count - 1)
            throw new InvalidDataException($"{file.Description}: no {Prefix}decoder.up.0..N levels numbered without gaps.");
        return levels.Count;
    }

    private static long[] Shape(ITensorSource file, string key) =>
        file.Names.Contains(Prefix + key)
            ? file.ShapeOf(Prefix + key)
            : throw new InvalidDataException($"{file.Description}: no tensor {Prefix}{key}; not an SD3 VAE.");
}
