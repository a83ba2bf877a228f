using System.Buffers.Binary;
using System.IO.Compression;

namespace LatentLab.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic number <c>00 00 TYPE RANK</c>,
/// RANK big-endian 32-bit dimensions, then the values in row-major order. Files may be gzip-compressed;
/// compression is detected from the first two bytes, not the file name.
/// </summary>
/// <remarks>
/// Only unsigned-byte data (type 0x08) is supported, which is what the MNIST family uses. Every fault
/// (wrong magic number, unsupported type, zero dimension, a file shorter or longer than its header says,
/// broken compression) is an <see cref="InvalidDataException"/> whose message names the file.
/// </remarks>
public static class IdxReader
{
    /// <summary>The IDX type code for unsigned bytes.</summary>
    public const byte UnsignedByteType = 0x08;

    private const int MaxRank = 4;
    // Deflate cannot expand data by more than about 1032:1; a header promising more than this is a lie,
    // and checking it first avoids allocating gigabytes for a corrupt file.
    private const long MaxDeflateRatio = 1032;

    /// <summary>
    /// Reads a rank-3 IDX file of images: dimensions [N, H, W] and N*H*W bytes, row-major.
    /// </summary>
    /// <param name="path">An <c>idx3-ubyte</c> file, raw or gzip-compressed.</param>
    /// <returns>The array; <see cref="IdxArray.Dimensions"/> is [N, H, W].</returns>
    /// <exception cref="InvalidDataException">Not a rank-3 unsigned-byte IDX file, or truncated.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxArray ReadImages(string path)
    {
        IdxArray array = Read(path);
        if (array.Dimensions.Count != 3)
        {
            throw new InvalidDataException(
                $"{path}: expected an image file with 3 dimensions [count, height, width], " +
                $"found {array.Dimensions.Count}.");
        }
        return array;
    }

    /// <summary>Reads a rank-1 IDX file of labels: dimension [N] and N bytes.</summary>
    /// <param name="path">An <c>idx1-ubyte</c> file, raw or gzip-compressed.</param>
    /// <exception cref="InvalidDataException">Not a rank-1 unsigned-byte IDX file, or truncated.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static byte[] ReadLabels(string path)
    {
        IdxArray array = Read(path);
        if (array.Dimensions.Count != 1)
        {
            throw new InvalidDataException(
                $"{path}: expected a label file with 1 dimension [count], found {array.Dimensions.Count}.");
        }
        return array.Data;
    }

    /// <summary>Reads an unsigned-byte IDX file of any rank from 1 to 4.</summary>
    /// <exception cref="InvalidDataException">Any format fault; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);

        using FileStream file = File.OpenRead(path);
        long fileLength = file.Length;
        bool compressed = IsGzip(file);
        try
        {
            using Stream stream = compressed ? new GZipStream(file, CompressionMode.Decompress) : file;
            return ReadFrom(stream, path, compressed, fileLength);
        }
        catch (InvalidDataException error) when (!error.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // GZipStream's own messages ("unsupported compression method", "block type") do not name the file.
            throw new InvalidDataException($"{path}: broken gzip data ({error.Message}).", error);
        }
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> signature = stackalloc byte[2];
        int read = file.ReadAtLeast(signature, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && signature[0] == 0x1F && signature[1] == 0x8B;
    }

    private static IdxArray ReadFrom(Stream stream, string path, bool compressed, long fileLength)
    {
        // 1. Magic number: two zero bytes, the value type, the rank.
        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, path, "the 4-byte magic number");
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new InvalidDataException(
                $"{path}: not an IDX file (magic number starts {magic[0]:X2} {magic[1]:X2}, expected 00 00).");
        }
        if (magic[2] != UnsignedByteType)
        {
            throw new InvalidDataException(
                $"{path}: IDX value type 0x{magic[2]:X2} is not supported; expected 0x08 (unsigned byte).");
        }
        int rank = magic[3];
        if (rank is < 1 or > MaxRank)
        {
            throw new InvalidDataException($"{path}: IDX rank {rank} is not supported; expected 1 to {MaxRank}.");
        }

        // 2. Dimensions, big-endian, each positive; their product must fit an array.
        byte[] header = new byte[4 * rank];
        ReadExactly(stream, header, path, $"{rank} dimension(s)");
        int[] dimensions = new int[rank];
        long valueCount = 1;
        for (int axis = 0; axis < rank; axis++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4 * axis));
            if (size == 0 || size > int.MaxValue)
            {
                throw new InvalidDataException($"{path}: dimension {axis} is {size}; expected 1 to {int.MaxValue}.");
            }
            dimensions[axis] = (int)size;
            valueCount *= size;
            if (valueCount > Array.MaxLength)
            {
                throw new InvalidDataException($"{path}: the header describes more than {Array.MaxLength} values.");
            }
        }

        // 3. The length the header implies, checked against the file before allocating.
        long headerLength = 4 + 4L * rank;
        if (!compressed && fileLength != headerLength + valueCount)
        {
            throw new InvalidDataException(
                $"{path}: file is {fileLength} bytes but its header [{string.Join(", ", dimensions)}] " +
                $"implies {headerLength + valueCount}" +
                (fileLength < headerLength + valueCount ? " (truncated)." : "."));
        }
        if (compressed && valueCount > fileLength * MaxDeflateRatio)
        {
            throw new InvalidDataException(
                $"{path}: header [{string.Join(", ", dimensions)}] promises more data than {fileLength} compressed " +
                "bytes can hold (truncated or corrupt).");
        }

        // 4. The values, then nothing after them.
        byte[] data = new byte[valueCount];
        int done = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (done != data.Length)
        {
            throw new InvalidDataException(
                $"{path}: truncated: header [{string.Join(", ", dimensions)}] implies {valueCount} values, " +
                $"found {done}.");
        }
        if (stream.ReadByte() != -1)
        {
            throw new InvalidDataException(
                $"{path}: data continues past the {valueCount} values its header " +
                $"[{string.Join(", ", dimensions)}] implies.");
        }
        return new IdxArray(dimensions, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        int done = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (done != buffer.Length)
        {
            throw new InvalidDataException($"{path}: truncated: the file ends inside {what}.");
        }
    }
}
