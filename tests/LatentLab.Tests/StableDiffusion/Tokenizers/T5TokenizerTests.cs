using LatentLab.StableDiffusion.Tokenizers;

namespace LatentLab.Tests.StableDiffusion.Tokenizers;

public class T5TokenizerTests
{
    public static TheoryData<int> Cases() => new(Enumerable.Range(0, 9));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ids_and_attention_mask_match_transformers_on_the_test_strings(int index)
    {
        T5Tokenizer tokenizer = T5Tokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer_3"));
        string text = TextGoldens.Strings("tokenizer_3")[index];

        TokenizedText encoded = tokenizer.Encode(text, maxLength: 256);

        Assert.Equal(TextGoldens.Int64s($"tokenizer_3.str{index}.input_ids"), encoded.InputIds);
        Assert.Equal(TextGoldens.Int64s($"tokenizer_3.str{index}.attention_mask"), encoded.AttentionMask);
    }

    [Fact]
    public void Truncation_keeps_room_for_the_end_token()
    {
        T5Tokenizer tokenizer = T5Tokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer_3"));
        string text = TextGoldens.Strings("tokenizer_3")[8];
        TokenizedText full = tokenizer.Encode(text, maxLength: 256);

        TokenizedText cut = tokenizer.Encode(text, maxLength: 10);

        Assert.Equal(full.InputIds.Take(9), cut.InputIds.Take(9));
        Assert.Equal(tokenizer.EosId, cut.InputIds[9]);
        Assert.Equal(240 - 9, cut.DroppedTokenCount);
        Assert.Equal(0, full.DroppedTokenCount);
    }

    [Fact]
    public void Model_file_that_is_not_a_sentencepiece_model_is_a_clear_error()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-t5-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "spiece.model"), [0x0A, 0xFF, 0x01]);

            InvalidDataException error = Assert.Throws<InvalidDataException>(() => T5Tokenizer.Load(folder));

            Assert.Contains("spiece.model", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
