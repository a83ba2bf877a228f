using LatentLab.StableDiffusion.TextEncoders;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.TextEncoders;

public class T5EncoderModelTests
{
    [Fact]
    public void Every_hidden_state_matches_transformers()
    {
        using var model = T5EncoderModel.Load(Path.Combine(TextGoldens.ModelFolder, "text_encoder_3"),
            torch.float32, torch.CPU);
        using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder_3.input_ids");

        using (torch.no_grad())
        using (T5EncoderOutput output = model.Encode(inputIds, keepHiddenStates: true))
        {
            Assert.Equal(model.Config.NumLayers + 1, output.HiddenStates.Count);
            for (int i = 0; i < output.HiddenStates.Count; i++)
            {
                using torch.Tensor expected = TextGoldens.Tensor($"text_encoder_3.hidden_states{i}");
                TensorAssert.Close(expected, output.HiddenStates[i], 1e-5, 1e-4, $"T5 hidden state {i}");
            }
            using torch.Tensor last = TextGoldens.Tensor("text_encoder_3.last_hidden_state");
            TensorAssert.Close(last, output.LastHiddenState, 1e-5, 1e-4, "T5 last hidden state");
        }
    }

    [Fact]
    public void Bfloat16_weights_give_bfloat16_states_close_to_the_float32_golden()
    {
        using var model = T5EncoderModel.Load(Path.Combine(TextGoldens.ModelFolder, "text_encoder_3"),
            torch.bfloat16, torch.CPU);
        using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder_3.input_ids");

        using (torch.no_grad())
        using (T5EncoderOutput output = model.forward(inputIds))
        {
            Assert.Equal(torch.bfloat16, output.LastHiddenState.dtype);
            Assert.Empty(output.HiddenStates);
            using torch.Tensor last = TextGoldens.Tensor("text_encoder_3.last_hidden_state");
            TensorAssert.Close(last, output.LastHiddenState, 0.05, 0.05, "bfloat16 T5 last hidden state");
        }
    }

    [Fact]
    public void Relative_position_buckets_follow_the_t5_formula()
    {
        // 32 buckets, max distance 128: 16 per direction, exact below 8, logarithmic from 8 up to 128.
        using torch.Tensor distances = torch.tensor(new long[] { 0, -1, -7, -8, -12, -127, -500, 1, 7, 8, 20, 300 });

        using torch.Tensor buckets = T5Attention.RelativePositionBuckets(distances, 32, 128);

        // Negative (key before query) in 0..15, positive in 16..31; large ones via 8 + log(d/8)/log(16) * 8.
        long[] expected = [0, 1, 7, 8, 9, 15, 15, 17, 23, 24, 26, 31];
        Assert.Equal(expected, buckets.data<long>().ToArray());
    }

    [Fact]
    public void Unsupported_feed_forward_is_an_error_listing_the_supported_ones()
    {
        var config = new T5EncoderConfig { FeedForwardProj = "gated-mish" };

        NotSupportedException error = Assert.Throws<NotSupportedException>(() => config.Validate("config.json"));

        Assert.Contains("gated-gelu", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("both names")]
    [InlineData("encoder name only")]
    public void Tied_token_embedding_loads_under_either_name(string layout)
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-t5-tied-").FullName;
        try
        {
            WriteVariant(folder, tensors =>
            {
                torch.Tensor shared = tensors["shared.weight"];
                tensors["encoder.embed_tokens.weight"] = shared.clone();
                if (layout == "encoder name only") tensors.Remove("shared.weight");
            });
            using var model = T5EncoderModel.Load(folder, torch.float32, torch.CPU);
            using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder_3.input_ids");

            using (torch.no_grad())
            using (T5EncoderOutput output = model.forward(inputIds))
            {
                using torch.Tensor last = TextGoldens.Tensor("text_encoder_3.last_hidden_state");
                TensorAssert.Close(last, output.LastHiddenState, 1e-5, 1e-4, layout);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Weights_file_missing_a_tensor_or_with_a_wrong_shape_is_an_error_naming_it()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-t5-broken-").FullName;
        try
        {
            WriteVariant(folder, tensors =>
            {
                tensors.Remove("encoder.block.1.layer.1.DenseReluDense.wi_1.weight");
                tensors["encoder.final_layer_norm.weight"] = torch.ones(95);
            });

            InvalidDataException error = Assert.Throws<InvalidDataException>(
                () => T5EncoderModel.Load(folder, torch.float32, torch.CPU));

            Assert.Contains("missing encoder.block.1.layer.1.DenseReluDense.wi_1.weight", error.Message,
                StringComparison.Ordinal);
            Assert.Contains("mis-shaped encoder.final_layer_norm.weight", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Writes the tiny T5 folder to <paramref name="folder"/> with its tensors changed by
    /// <paramref name="change"/>.</summary>
    private static void WriteVariant(string folder, Action<Dictionary<string, torch.Tensor>> change)
    {
        string source = Path.Combine(TextGoldens.ModelFolder, "text_encoder_3");
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));
        using SafeTensorsFile original = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors"));
        var tensors = original.Tensors.Keys.ToDictionary(name => name, name => original.ReadTensor(name));
        change(tensors);
        SafeTensorsWriter.Save(Path.Combine(folder, "model.safetensors"), tensors);
        foreach (torch.Tensor tensor in tensors.Values) tensor.Dispose();
    }
}
