using LatentLab.StableDiffusion.Tokenizers;

namespace LatentLab.Tests.StableDiffusion.Tokenizers;

public class ClipTokenizerTests
{
    public static TheoryData<string, int> Cases()
    {
        var cases = new TheoryData<string, int>();
        foreach (string folder in (string[])["tokenizer", "tokenizer_2"])
        {
            for (int i = 0; i < 9; i++) cases.Add(folder, i);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ids_and_attention_mask_match_transformers_on_the_test_strings(string folder, int index)
    {
        ClipTokenizer tokenizer = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, folder));
        string text = TextGoldens.Strings(folder)[index];

        TokenizedText encoded = tokenizer.Encode(text);

        Assert.Equal(TextGoldens.Int64s($"{folder}.str{index}.input_ids"), encoded.InputIds);
        Assert.Equal(TextGoldens.Int64s($"{folder}.str{index}.attention_mask"), encoded.AttentionMask);
    }

    [Fact]
    public void Second_tokenizer_pads_with_the_exclamation_mark_and_encodes_it_as_the_pad_id()
    {
        ClipTokenizer first = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer"));
        ClipTokenizer second = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer_2"));

        Assert.Equal(first.EosId, first.PadId);
        Assert.Equal(0, second.PadId);
        TokenizedText bang = second.Encode("!");
        Assert.Equal([second.BosId, 0, second.EosId, 0], bang.InputIds.Take(4));
        Assert.Equal([1L, 1, 1, 0], bang.AttentionMask.Take(4));
    }

    [Fact]
    public void Long_text_is_cut_to_75_tokens_between_start_and_end_and_names_the_dropped_words()
    {
        ClipTokenizer tokenizer = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer"));
        string text = string.Join(" ", Enumerable.Repeat("a red apple", 30)) + " CAT Dog";

        TokenizedText encoded = tokenizer.Encode(text);
        IReadOnlyList<string> dropped = tokenizer.TruncatedWords(text);

        Assert.Equal(77, encoded.InputIds.Count);
        Assert.Equal(tokenizer.EosId, encoded.InputIds[76]);
        Assert.All(encoded.AttentionMask, value => Assert.Equal(1L, value));
        // One token per word in the tiny vocabulary: 92 tokens, 75 kept (25 times "a red apple"), 17 dropped.
        Assert.Equal(17, encoded.DroppedTokenCount);
        Assert.Equal(17, dropped.Count);
        Assert.Equal(["a", "red", "apple"], dropped.Take(3));
        Assert.Equal(["CAT", "Dog"], dropped.TakeLast(2));
    }

    [Fact]
    public void Word_cut_in_the_middle_counts_as_dropped_and_short_text_drops_nothing()
    {
        ClipTokenizer tokenizer = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer"));
        // The tiny vocabulary splits "photograph" into "photograp" + "h</w>": the 75-token budget ends between them.
        string text = string.Join(" ", Enumerable.Repeat("a", 74)) + " photograph end";

        IReadOnlyList<string> dropped = tokenizer.TruncatedWords(text);

        Assert.Equal(["photograph", "end"], dropped);
        Assert.Empty(tokenizer.TruncatedWords("a cat"));
    }

    [Fact]
    public void Any_unicode_text_encodes_byte_by_byte_without_unknown_tokens()
    {
        ClipTokenizer tokenizer = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer"));

        // "é" is two UTF-8 bytes, "東" three, "😀" four: each byte has a token of its own in CLIP's vocabulary.
        TokenizedText encoded = tokenizer.Encode("é 東 😀");

        int length = encoded.AttentionMask.Count(value => value == 1);
        Assert.Equal(2 + 2 + 3 + 4, length);
        Assert.All(encoded.InputIds.Skip(1).Take(length - 2), id => Assert.InRange(id, 0, 511));
    }

    [Fact]
    public void Whitespace_and_case_do_not_change_the_ids()
    {
        ClipTokenizer tokenizer = ClipTokenizer.Load(Path.Combine(TextGoldens.ModelFolder, "tokenizer"));

        Assert.Equal(tokenizer.Encode("a cat").InputIds, tokenizer.Encode("  A \t\n CAT ").InputIds);
    }

    [Fact]
    public void Missing_merges_file_is_a_clear_error()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-clip-").FullName;
        try
        {
            File.Copy(Path.Combine(TextGoldens.ModelFolder, "tokenizer", "vocab.json"),
                Path.Combine(folder, "vocab.json"));

            FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(folder));

            Assert.Contains("merges.txt", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
