using System.Text.RegularExpressions;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Checkpoints;

/// <summary>
/// The reverse of the single-file loader, written independently for the tests: diffusers-named tensors renamed,
/// fused and reordered into Stability's original single-file layout.
/// </summary>
internal static partial class OriginalLayout
{
    [GeneratedRegex(@"^transformer_blocks\.(\d+)\.(.+)$")]
    private static partial Regex Block();

    [GeneratedRegex(@"^decoder\.up_blocks\.(\d+)\.(.+)$")]
    private static partial Regex UpBlock();

    /// <summary>An SD3Transformer2DModel state as <c>model.diffusion_model.*</c> tensors.</summary>
    public static Dictionary<string, torch.Tensor> Transformer(IReadOnlyDictionary<string, torch.Tensor> state, int numLayers)
    {
        var original = new Dictionary<string, torch.Tensor>();
        void Put(string key, torch.Tensor value) => original.Add("model.diffusion_model." + key, value.contiguous());

        foreach ((string name, torch.Tensor value) in state)
        {
            Match block = Block().Match(name);
            if (!block.Success)
            {
                string key = name switch
                {
                    "pos_embed.pos_embed" => "pos_embed",
                    _ => name.Replace("pos_embed.proj.", "x_embedder.proj.")
                        .Replace("time_text_embed.timestep_embedder.linear_1.", "t_embedder.mlp.0.")
                        .Replace("time_text_embed.timestep_embedder.linear_2.", "t_embedder.mlp.2.")
                        .Replace("time_text_embed.text_embedder.linear_1.", "y_embedder.mlp.0.")
                        .Replace("time_text_embed.text_embedder.linear_2.", "y_embedder.mlp.2.")
                        .Replace("proj_out.", "final_layer.linear.")
                        .Replace("norm_out.linear.", "final_layer.adaLN_modulation.1."),
                };
                Put(key, name.StartsWith("norm_out.", StringComparison.Ordinal) ? Swap(value) : value);
                continue;
            }
            int index = int.Parse(block.Groups[1].Value);
            string rest = block.Groups[2].Value;
            string prefix = $"joint_blocks.{index}.";
            string suffix = rest[(rest.LastIndexOf('.') + 1)..];
            string module = rest[..rest.LastIndexOf('.')];
            switch (module)
            {
                case "attn.to_k" or "attn.to_v" or "attn.add_k_proj" or "attn.add_v_proj" or "attn2.to_k" or "attn2.to_v":
                    continue;   // fused with the query below
                case "attn.to_q":
                    Put($"{prefix}x_block.attn.qkv.{suffix}", Fuse(state, $"transformer_blocks.{index}.attn.to_", suffix));
                    continue;
                case "attn.add_q_proj":
                    Put($"{prefix}context_block.attn.qkv.{suffix}", torch.cat(
                    [
                        state[$"transformer_blocks.{index}.attn.add_q_proj.{suffix}"],
                        state[$"transformer_blocks.{index}.attn.add_k_proj.{suffix}"],
                        state[$"transformer_blocks.{index}.attn.add_v_proj.{suffix}"],
                    ], 0));
                    continue;
                case "attn2.to_q":
                    Put($"{prefix}x_block.attn2.qkv.{suffix}", Fuse(state, $"transformer_blocks.{index}.attn2.to_", suffix));
                    continue;
                case "norm1_context.linear":
                    Put($"{prefix}context_block.adaLN_modulation.1.{suffix}", index == numLayers - 1 ? Swap(value) : value);
                    continue;
            }
            string target = module switch
            {
                "attn.to_out.0" => "x_block.attn.proj",
                "attn.to_add_out" => "context_block.attn.proj",
                "attn.norm_q" => "x_block.attn.ln_q",
                "attn.norm_k" => "x_block.attn.ln_k",
                "attn.norm_added_q" => "context_block.attn.ln_q",
                "attn.norm_added_k" => "context_block.attn.ln_k",
                "attn2.to_out.0" => "x_block.attn2.proj",
                "attn2.norm_q" => "x_block.attn2.ln_q",
                "attn2.norm_k" => "x_block.attn2.ln_k",
                "norm1.linear" => "x_block.adaLN_modulation.1",
                "ff.net.0.proj" => "x_block.mlp.fc1",
                "ff.net.2" => "x_block.mlp.fc2",
                "ff_context.net.0.proj" => "context_block.mlp.fc1",
                "ff_context.net.2" => "context_block.mlp.fc2",
                _ => throw new InvalidOperationException($"no original name for {name}"),
            };
            Put($"{prefix}{target}.{suffix}", value);
        }
        return original;
    }

    /// <summary>An AutoencoderKL checkpoint (diffusers names) as <c>first_stage_model.*</c> tensors.</summary>
    public static Dictionary<string, torch.Tensor> Vae(IReadOnlyDictionary<string, torch.Tensor> state, int levels)
    {
        var original = new Dictionary<string, torch.Tensor>();
        foreach ((string name, torch.Tensor value) in state)
        {
            string key = name;
            torch.Tensor tensor = value;
            if (UpBlock().Match(name) is { Success: true } up)
            {
                int level = levels - 1 - int.Parse(up.Groups[1].Value);
                key = $"decoder.up.{level}." + up.Groups[2].Value.Replace("resnets.", "block.")
                    .Replace("upsamplers.0.", "upsample.");
            }
            else if (name.StartsWith("decoder.mid_block.attentions.0.", StringComparison.Ordinal))
            {
                string part = name["decoder.mid_block.attentions.0.".Length..];
                key = "decoder.mid.attn_1." + part.Replace("group_norm.", "norm.").Replace("to_q.", "q.")
                    .Replace("to_k.", "k.").Replace("to_v.", "v.").Replace("to_out.0.", "proj_out.");
                if (value.dim() == 2) tensor = value.reshape(value.shape[0], value.shape[1], 1, 1);   // 1x1 conv
            }
            else if (name.StartsWith("decoder.", StringComparison.Ordinal))
            {
                key = name.Replace("mid_block.resnets.0.", "mid.block_1.").Replace("mid_block.resnets.1.", "mid.block_2.")
                    .Replace("conv_norm_out.", "norm_out.");
            }
            key = key.Replace("conv_shortcut.", "nin_shortcut.");
            original.Add("first_stage_model." + key, tensor.contiguous());
        }
        return original;
    }

    private static torch.Tensor Fuse(IReadOnlyDictionary<string, torch.Tensor> state, string prefix, string suffix) =>
        torch.cat([state[$"{prefix}q.{suffix}"], state[$"{prefix}k.{suffix}"], state[$"{prefix}v.{suffix}"]], 0);

    private static torch.Tensor Swap(torch.Tensor value)
    {
        torch.Tensor[] halves = value.chunk(2, 0); // scale, shift (diffusers)
        return torch.cat([halves[1], halves[0]], 0); // shift, scale (original)
    }
}
