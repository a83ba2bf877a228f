using LatentLab.StableDiffusion.TextEncoders;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.TextEncoders;

public class ClipTextModelWithProjectionTests
{
    [Theory]
    [InlineData("text_encoder")]
    [InlineData("text_encoder_2")]
    public void Every_hidden_state_and_the_projection_match_transformers(string folder)
    {
        using var model = ClipTextModelWithProjection.Load(Path.Combine(TextGoldens.ModelFolder, folder),
            torch.float32, torch.CPU);
        using torch.Tensor inputIds = TextGoldens.Tensor($"{folder}.input_ids");

        using (torch.no_grad())
        using (ClipTextOutput output = model.forward(inputIds))
        {
            Assert.Equal(model.Config.NumHiddenLayers + 1, output.HiddenStates.Count);
            for (int i = 0; i < output.HiddenStates.Count; i++)
            {
                using torch.Tensor expected = TextGoldens.Tensor($"{folder}.hidden_states{i}");
                TensorAssert.Close(expected, output.HiddenStates[i], 1e-5, 1e-4, $"{folder} hidden state {i}");
            }
            using torch.Tensor last = TextGoldens.Tensor($"{folder}.last_hidden_state");
            TensorAssert.Close(last, output.LastHiddenState, 1e-5, 1e-4, $"{folder} last hidden state");
            using torch.Tensor embeds = TextGoldens.Tensor($"{folder}.text_embeds");
            TensorAssert.Close(embeds, output.TextEmbeds, 1e-5, 1e-4, $"{folder} text embeds");
        }
    }

    [Fact]
    public void Bfloat16_weights_give_bfloat16_states_close_to_the_float32_golden()
    {
        using var model = ClipTextModelWithProjection.Load(Path.Combine(TextGoldens.ModelFolder, "text_encoder_2"),
            torch.bfloat16, torch.CPU);
        using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder_2.input_ids");

        using (torch.no_grad())
        using (ClipTextOutput output = model.forward(inputIds))
        {
            Assert.Equal(torch.bfloat16, output.LastHiddenState.dtype);
            using torch.Tensor last = TextGoldens.Tensor("text_encoder_2.last_hidden_state");
            // bfloat16 keeps 8 bits of mantissa: about 0.4 % per rounding, a few roundings deep.
            TensorAssert.Close(last, output.LastHiddenState, 0.05, 0.05, "bfloat16 last hidden state");
        }
    }

    [Fact]
    public void Weights_file_missing_a_tensor_is_an_error_naming_it()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-clip-weights-").FullName;
        try
        {
            string source = Path.Combine(TextGoldens.ModelFolder, "text_encoder");
            File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));
            const string removed = "text_model.encoder.layers.1.mlp.fc2.bias";
            using (SafeTensorsFile original = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors")))
            {
                var kept = original.Tensors.Keys.Where(name => name != removed)
                    .Select(name => new KeyValuePair<string, torch.Tensor>(name, original.ReadTensor(name)))
                    .ToList();
                SafeTensorsWriter.Save(Path.Combine(folder, "model.safetensors"), kept);
                kept.ForEach(entry => entry.Value.Dispose());
            }

            InvalidDataException error = Assert.Throws<InvalidDataException>(
                () => ClipTextModelWithProjection.Load(folder, torch.float32, torch.CPU));

            Assert.Contains("missing", error.Message, StringComparison.Ordinal);
            Assert.Contains(removed, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Position_ids_buffer_of_older_checkpoints_is_ignored()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-clip-position-ids-").FullName;
        try
        {
            string source = Path.Combine(TextGoldens.ModelFolder, "text_encoder");
            File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));
            using (SafeTensorsFile original = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors")))
            {
                var tensors = original.Tensors.Keys.ToDictionary(name => name, name => original.ReadTensor(name));
                tensors["text_model.embeddings.position_ids"] = torch.arange(77).unsqueeze(0);
                SafeTensorsWriter.Save(Path.Combine(folder, "model.safetensors"), tensors);
                foreach (torch.Tensor tensor in tensors.Values) tensor.Dispose();
            }
            using var model = ClipTextModelWithProjection.Load(folder, torch.float32, torch.CPU);
            using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder.input_ids");

            using (torch.no_grad())
            using (ClipTextOutput output = model.forward(inputIds))
            {
                using torch.Tensor embeds = TextGoldens.Tensor("text_encoder.text_embeds");
                TensorAssert.Close(embeds, output.TextEmbeds, 1e-5, 1e-4);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Unknown_activation_is_an_error_listing_the_supported_ones()
    {
        var config = new ClipTextConfig { HiddenAct = "mish" };

        NotSupportedException error = Assert.Throws<NotSupportedException>(() => config.Validate("config.json"));

        Assert.Contains("'mish'", error.Message, StringComparison.Ordinal);
        Assert.Contains("quick_gelu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_of_another_architecture_is_an_error_naming_it()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-clip-config-").FullName;
        try
        {
            string path = Path.Combine(folder, "config.json");
            File.WriteAllText(path, """{ "architectures": ["CLIPVisionModel"], "hidden_size": 32 }""");

            NotSupportedException error = Assert.Throws<NotSupportedException>(() => ClipTextConfig.Load(path));

            Assert.Contains("CLIPVisionModel", error.Message, StringComparison.Ordinal);
            Assert.Contains("CLIPTextModelWithProjection", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
