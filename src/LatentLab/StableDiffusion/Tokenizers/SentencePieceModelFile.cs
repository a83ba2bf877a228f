using System.Text;

namespace LatentLab.StableDiffusion.Tokenizers;

/// <summary>
/// The fields of a SentencePiece <c>.model</c> file (a protocol-buffers <c>ModelProto</c>) that a unigram tokenizer
/// needs: the pieces with their scores and types, the special ids of the trainer spec, and the normalizer spec.
/// Field numbers follow sentencepiece_model.proto; fields not listed are skipped.
/// </summary>
internal sealed class SentencePieceModelFile
{
    /// <summary>Piece types of the proto.</summary>
    public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    /// <summary>Model types of the trainer spec.</summary>
    public enum ModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 }

    public List<(string Piece, float Score, PieceType Type)> Pieces { get; } = [];
    public ModelType Type { get; private set; } = ModelType.Unigram;
    public int UnknownId { get; private set; }
    public int BosId { get; private set; } = 1;
    public int EosId { get; private set; } = 2;
    public int PadId { get; private set; } = -1;
    public bool ByteFallback { get; private set; }
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public string NormalizerName { get; private set; } = "";
    public byte[] PrecompiledCharsMap { get; private set; } = [];
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;

    /// <exception cref="InvalidDataException">The bytes are not a well-formed model proto.</exception>
    public static SentencePieceModelFile Parse(byte[] bytes, string path)
    {
        var model = new SentencePieceModelFile();
        try
        {
            foreach (Field field in Fields(bytes))
            {
                switch (field.Number)
                {
                    case 1: model.Pieces.Add(ParsePiece(field.Bytes)); break;
                    case 2: model.ParseTrainerSpec(field.Bytes); break;
                    case 3: model.ParseNormalizerSpec(field.Bytes); break;
                }
            }
        }
        catch (Exception error) when (error is IndexOutOfRangeException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not a SentencePiece model (malformed protocol buffer).", error);
        }
        if (model.Pieces.Count == 0) throw new InvalidDataException($"{path}: SentencePiece model has no pieces.");
        return model;
    }

    private static (string, float, PieceType) ParsePiece(ReadOnlyMemory<byte> bytes)
    {
        string piece = "";
        float score = 0;
        var type = PieceType.Normal;
        foreach (Field field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 1: piece = Encoding.UTF8.GetString(field.Bytes.Span); break;
                case 2: score = BitConverter.UInt32BitsToSingle((uint)field.Value); break;
                case 3: type = (PieceType)(int)field.Value; break;
            }
        }
        return (piece, score, type);
    }

    private void ParseTrainerSpec(ReadOnlyMemory<byte> bytes)
    {
        foreach (Field field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 3: Type = (ModelType)(int)field.Value; break;
                case 24: TreatWhitespaceAsSuffix = field.Value != 0; break;
                case 35: ByteFallback = field.Value != 0; break;
                case 40: UnknownId = (int)(long)field.Value; break;
                case 41: BosId = (int)(long)field.Value; break;
                case 42: EosId = (int)(long)field.Value; break;
                case 43: PadId = (int)(long)field.Value; break;
            }
        }
    }

    private void ParseNormalizerSpec(ReadOnlyMemory<byte> bytes)
    {
        foreach (Field field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 1: NormalizerName = Encoding.UTF8.GetString(field.Bytes.Span); break;
                case 2: PrecompiledCharsMap = field.Bytes.ToArray(); break;
                case 3: AddDummyPrefix = field.Value != 0; break;
                case 4: RemoveExtraWhitespaces = field.Value != 0; break;
                case 5: EscapeWhitespaces = field.Value != 0; break;
            }
        }
    }

    /// <summary>One protocol-buffers field: a number with a scalar value or a length-delimited payload.</summary>
    private readonly record struct Field(int Number, ulong Value, ReadOnlyMemory<byte> Bytes);

    private static List<Field> Fields(ReadOnlyMemory<byte> memory)
    {
        var fields = new List<Field>();
        ReadOnlySpan<byte> span = memory.Span;
        int position = 0;
        while (position < span.Length)
        {
            ulong key = ReadVarint(span, ref position);
            int number = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    fields.Add(new Field(number, ReadVarint(span, ref position), default));
                    break;
                case 1:
                    fields.Add(new Field(number, BitConverter.ToUInt64(span.Slice(position, 8)), default));
                    position += 8;
                    break;
                case 2:
                    int length = checked((int)ReadVarint(span, ref position));
                    if (length < 0 || length > span.Length - position)
                    {
                        throw new ArgumentException("length out of range");
                    }
                    fields.Add(new Field(number, 0, memory.Slice(position, length)));
                    position += length;
                    break;
                case 5:
                    fields.Add(new Field(number, BitConverter.ToUInt32(span.Slice(position, 4)), default));
                    position += 4;
                    break;
                default:
                    throw new ArgumentException($"unsupported wire type {key & 7}");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte current = span[position++];
            value |= (ulong)(current & 0x7F) << shift;
            if (current < 0x80) return value;
        }
        throw new ArgumentException("varint too long");
    }
}
