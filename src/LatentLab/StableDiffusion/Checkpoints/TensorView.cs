using LatentLab.Weights;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Checkpoints;

/// <summary>
/// Tensors of another source under new names, each read lazily by a recipe (a rename, one chunk of a fused tensor,
/// swapped halves, a squeezed 1x1 conv): nothing is read until a loader asks for that tensor, and then only it, so
/// a memory-mapped checkpoint of any size converts with one tensor's worth of extra memory at a time.
/// </summary>
internal sealed class TensorView : ITensorSource
{
    private readonly Dictionary<string, (long[] Shape, Func<Tensor> Read)> _entries = new(StringComparer.Ordinal);
    private readonly ITensorSource _source;

    public TensorView(ITensorSource source, string description)
    {
        _source = source;
        Description = description;
    }

    public string Description { get; }

    public IReadOnlyCollection<string> Names => _entries.Keys;

    public bool Contains(string name) => _entries.ContainsKey(name);

    public long[] ShapeOf(string name) => Entry(name).Shape;

    public Tensor Read(string name, ScalarType? convertTo = null)
    {
        Tensor value = Entry(name).Read();
        if (convertTo is not { } dtype || value.dtype == dtype) return value;
        using (value) return value.to(dtype);
    }

    /// <summary>The tensor <paramref name="from"/> of the source, as <paramref name="to"/>.</summary>
    public void Rename(string from, string to) => Add(to, _source.ShapeOf(from), () => _source.Read(from));

    /// <summary>Tensor <paramref name="name"/> of another source, under the same name (fills a gap of this one).</summary>
    public void Borrow(ITensorSource other, string name) => Add(name, other.ShapeOf(name), () => other.Read(name));

    /// <summary>
    /// Part <paramref name="index"/> of <paramref name="count"/> equal parts of <paramref name="from"/> along its first
    /// dimension (a fused q/k/v projection), as <paramref name="to"/>.
    /// </summary>
    public void Chunk(string from, int index, int count, string to)
    {
        long[] shape = _source.ShapeOf(from);
        if (shape.Length == 0 || shape[0] % count != 0)
        {
            throw new InvalidDataException(
                $"{_source.Description}: '{from}' of shape [{string.Join(", ", shape)}] does not split in {count}.");
        }
        long part = shape[0] / count;
        Add(to, [part, .. shape[1..]], () =>
        {
            using Tensor whole = _source.Read(from);
            return whole.narrow(0, index * part, part).clone();
        });
    }

    /// <summary>
    /// <paramref name="from"/> with the two halves of its first dimension swapped, as <paramref name="to"/>: the
    /// original MMDiT's final adaptive norms produce (shift, scale), diffusers' (scale, shift).
    /// </summary>
    public void SwapHalves(string from, string to)
    {
        long[] shape = _source.ShapeOf(from);
        if (shape.Length == 0 || shape[0] % 2 != 0)
        {
            throw new InvalidDataException(
                $"{_source.Description}: '{from}' of shape [{string.Join(", ", shape)}] has no two halves to swap.");
        }
        Add(to, shape, () =>
        {
            using Tensor whole = _source.Read(from);
            Tensor[] halves = whole.chunk(2, 0); // shift, scale
            try
            {
                return cat([halves[1], halves[0]], 0); // scale, shift
            }
            finally
            {
                foreach (Tensor half in halves) half.Dispose();
            }
        });
    }

    /// <summary>
    /// <paramref name="from"/> as <paramref name="to"/>, with a 1x1 convolution's kernel [out, in, 1, 1] flattened
    /// to a linear weight [out, in]; other shapes pass unchanged.
    /// </summary>
    public void SqueezeConv1x1(string from, string to)
    {
        long[] shape = _source.ShapeOf(from);
        if (shape is not [_, _, 1, 1])
        {
            Rename(from, to);
            return;
        }
        Add(to, shape[..2], () =>
        {
            using Tensor kernel = _source.Read(from);
            return kernel.reshape(shape[0], shape[1]).clone();
        });
    }

    private void Add(string name, long[] shape, Func<Tensor> read)
    {
        if (!_entries.TryAdd(name, (shape, read)))
            throw new InvalidDataException($"{_source.Description}: two tensors map to '{name}'.");
    }

    private (long[] Shape, Func<Tensor> Read) Entry(string name) =>
        _entries.TryGetValue(name, out (long[] Shape, Func<Tensor> Read) entry)
            ? entry
            : throw new KeyNotFoundException($"{Description}: no tensor named '{name}'.");
}
