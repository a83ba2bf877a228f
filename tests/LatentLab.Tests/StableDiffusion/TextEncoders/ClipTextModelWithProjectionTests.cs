using LatentLab.StableDiffusion.TextEncoders;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.TextEncoders;

public class ClipTextModelWithProjectionTests
{
    [Theory]
    [InlineData("text_encoder")]
    [InlineData("text_encoder_2")]
    public void Every_hidden_state_and_the_projection_match_transformers(string folder)
    {
        string modelFolder = Path.Combine(TextGoldens.ModelFolder, folder);
        ClipTextConfig config = ClipTextConfig.Load(Path.Combine(modelFolder, "config.json"));
        using var model = new ClipTextModelWithProjection(config, torch.float32, torch.CPU);
        TextGoldens.LoadWeights(model, Path.Combine(modelFolder, "model.safetensors"));
        long[] ids = TextGoldens.Int64s($"{folder}.input_ids");
        using torch.Tensor inputIds = torch.tensor(ids, [1, ids.Length]);

        using (torch.no_grad())
        using (ClipTextOutput output = model.forward(inputIds))
        {
            Assert.Equal(config.NumHiddenLayers + 1, output.HiddenStates.Count);
            for (int i = 0; i < output.HiddenStates.Count; i++)
            {
                using torch.Tensor expected = TextGoldens.Float32($"{folder}.hidden_states{i}");
                TextGoldens.AssertClose(expected, output.HiddenStates[i], 1e-5, 1e-4, $"{folder} hidden state {i}");
            }
            using torch.Tensor last = TextGoldens.Float32($"{folder}.last_hidden_state");
            TextGoldens.AssertClose(last, output.LastHiddenState, 1e-5, 1e-4, $"{folder} last hidden state");
            using torch.Tensor embeds = TextGoldens.Float32($"{folder}.text_embeds");
            TextGoldens.AssertClose(embeds, output.TextEmbeds, 1e-5, 1e-4, $"{folder} text embeds");
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
