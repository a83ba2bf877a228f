using LatentLab.StableDiffusion.Transformer;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Transformer;

/// <summary>SD 3.5's transformer features: per-head query/key RMS norms and MMDiT-X dual attention blocks.</summary>
public class SD35TransformerTests
{
    // An SD 3.5 Medium-style config in miniature: qk norm everywhere, the first block an MMDiT-X block.
    internal const string ConfigJson = """
        {
          "_class_name": "SD3Transformer2DModel",
          "attention_head_dim": 8, "num_attention_heads": 4, "caption_projection_dim": 32,
          "num_layers": 2, "in_channels": 16, "out_channels": 16, "patch_size": 2,
          "joint_attention_dim": 48, "pooled_projection_dim": 40, "pos_embed_max_size": 16, "sample_size": 16,
          "qk_norm": "rms_norm", "dual_attention_layers": [0]
        }
        """;

    internal static SD3TransformerConfig WriteAndLoadConfig(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, ConfigJson);
        return SD3TransformerConfig.Load(path);
    }

    internal static SD3Transformer2DModel Build(SD3TransformerConfig config, int seed)
    {
        torch.manual_seed(seed);
        var model = new SD3Transformer2DModel(config);
        using (torch.no_grad())
        {
            // Norm weights start at 1 and biases at 0; perturb everything so a dropped tensor shows up.
            foreach ((string _, torch.Tensor value) in model.state_dict())
            {
                value.add_(torch.randn_like(value) * 0.05);
            }
        }
        model.eval();
        return model;
    }

    private static (torch.Tensor Latents, torch.Tensor Prompt, torch.Tensor Pooled, torch.Tensor Timesteps) Inputs()
    {
        torch.manual_seed(7);
        return (torch.randn(2, 16, 8, 12), torch.randn(2, 5, 48), torch.randn(2, 40), torch.tensor(new[] { 999f, 250f }));
    }

    [Fact]
    public void A_config_with_qk_norm_and_one_dual_layer_builds_the_diffusers_parameter_names()
    {
        string folder = TestPaths.NewTemporaryFolder();
        SD3TransformerConfig config = WriteAndLoadConfig(folder);
        Assert.True(config.UsesQkNorm);
        using SD3Transformer2DModel model = Build(config, 1);
        Dictionary<string, torch.Tensor> state = model.state_dict();

        foreach (string name in new[]
                 {
                     "attn.norm_q.weight", "attn.norm_k.weight", "attn.norm_added_q.weight", "attn.norm_added_k.weight",
                 })
        {
            Assert.Equal([8L], state["transformer_blocks.0." + name].shape);
            Assert.Equal([8L], state["transformer_blocks.1." + name].shape);
        }
        foreach (string name in new[]
                 {
                     "to_q.weight", "to_q.bias", "to_k.weight", "to_v.weight", "to_out.0.weight", "to_out.0.bias",
                     "norm_q.weight", "norm_k.weight",
                 })
        {
            Assert.True(state.ContainsKey("transformer_blocks.0.attn2." + name), name);
        }
        Assert.DoesNotContain(state.Keys, name => name.StartsWith("transformer_blocks.1.attn2.", StringComparison.Ordinal));
        Assert.Equal([9L * 32, 32], state["transformer_blocks.0.norm1.linear.weight"].shape);
        Assert.Equal([6L * 32, 32], state["transformer_blocks.1.norm1.linear.weight"].shape);
    }

    [Fact]
    public void It_runs_and_round_trips_through_save_and_load_with_identical_outputs()
    {
        string folder = TestPaths.NewTemporaryFolder();
        SD3TransformerConfig config = WriteAndLoadConfig(folder);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (torch.Tensor latents, torch.Tensor prompt, torch.Tensor pooled, torch.Tensor timesteps) = Inputs();

        using SD3Transformer2DModel original = Build(config, 1);
        torch.Tensor expected = original.forward(latents, prompt, pooled, timesteps);
        Assert.Equal([2L, 16, 8, 12], expected.shape);
        Assert.True(expected.isfinite().all().item<bool>());

        string weights = Path.Combine(folder, "diffusion_pytorch_model.safetensors");
        ModuleWeights.Save(original, weights);
        using SD3Transformer2DModel reloaded = Build(config, 2);   // other weights until loaded
        Assert.False(reloaded.forward(latents, prompt, pooled, timesteps).allclose(expected));
        using (TensorSource source = TensorSource.OpenFolder(folder)) ModuleWeights.Load(reloaded, source);
        TensorAssert.Equal(expected, reloaded.forward(latents, prompt, pooled, timesteps));
    }

    [Fact]
    public void Rms_norm_matches_a_scalar_loop()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var norm = new RmsNorm(6, 1e-6);
        using (torch.no_grad()) norm.parameters().First().copy_(torch.tensor(new[] { 0.5f, 1f, 1.5f, -1f, 2f, 0.25f }));
        torch.Tensor input = torch.randn(2, 3, 6) * 3;
        torch.Tensor output = norm.forward(input);

        float[] x = input.data<float>().ToArray();
        float[] weight = [0.5f, 1f, 1.5f, -1f, 2f, 0.25f];
        float[] expected = new float[x.Length];
        for (int row = 0; row < x.Length / 6; row++)
        {
            double sumOfSquares = 0;
            for (int i = 0; i < 6; i++) sumOfSquares += x[row * 6 + i] * (double)x[row * 6 + i];
            double scale = 1 / Math.Sqrt(sumOfSquares / 6 + 1e-6);
            for (int i = 0; i < 6; i++) expected[row * 6 + i] = (float)(x[row * 6 + i] * scale * weight[i]);
        }
        TensorAssert.Close(torch.tensor(expected, [2, 3, 6]), output, 1e-5, 1e-5);
    }

    [Fact]
    public void With_qk_norm_the_scale_of_the_query_and_key_projections_does_not_matter()
    {
        string folder = TestPaths.NewTemporaryFolder();
        SD3TransformerConfig config = WriteAndLoadConfig(folder);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (torch.Tensor latents, torch.Tensor prompt, torch.Tensor pooled, torch.Tensor timesteps) = Inputs();

        foreach (bool qkNorm in new[] { true, false })
        {
            SD3TransformerConfig variant = qkNorm ? config : config with { QkNorm = null };
            using SD3Transformer2DModel model = Build(variant, 1);
            torch.Tensor before = model.forward(latents, prompt, pooled, timesteps);
            Dictionary<string, torch.Tensor> state = model.state_dict();
            foreach (string projection in new[] { "to_q", "to_k", "add_q_proj", "add_k_proj" })
            {
                state[$"transformer_blocks.0.attn.{projection}.weight"].mul_(4);
                state[$"transformer_blocks.0.attn.{projection}.bias"].mul_(4);
            }
            torch.Tensor after = model.forward(latents, prompt, pooled, timesteps);
            if (qkNorm) TensorAssert.Close(before, after, 1e-4, 1e-4);
            else Assert.False(before.allclose(after, 1e-3, 1e-3));
        }
    }

    [Fact]
    public void The_ninth_chunk_of_the_dual_norm_gates_the_second_attention()
    {
        string folder = TestPaths.NewTemporaryFolder();
        SD3TransformerConfig config = WriteAndLoadConfig(folder);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (torch.Tensor latents, torch.Tensor prompt, torch.Tensor pooled, torch.Tensor timesteps) = Inputs();
        using SD3Transformer2DModel model = Build(config, 1);
        Dictionary<string, torch.Tensor> state = model.state_dict();
        torch.Tensor attn2Value = state["transformer_blocks.0.attn2.to_v.weight"];

        // Gate open: changing attn2 changes the output.
        torch.Tensor open = model.forward(latents, prompt, pooled, timesteps);
        attn2Value.add_(0.5);
        Assert.False(open.allclose(model.forward(latents, prompt, pooled, timesteps), 1e-4, 1e-4));

        // Chunk 8 (gate_msa2) of norm1's output zeroed: attn2 no longer matters.
        state["transformer_blocks.0.norm1.linear.weight"][(8 * 32)..].zero_();
        state["transformer_blocks.0.norm1.linear.bias"][(8 * 32)..].zero_();
        torch.Tensor closed = model.forward(latents, prompt, pooled, timesteps);
        attn2Value.add_(0.5);
        TensorAssert.Equal(closed, model.forward(latents, prompt, pooled, timesteps));
    }
}
