using TorchSharp;

namespace LatentLab.Weights;

/// <summary>
/// Named tensors that can be listed, measured and read one at a time: files on disk (<see cref="TensorSource"/>) or
/// a view that renames and reshapes another source's tensors on the fly (checkpoint layout conversions).
/// </summary>
public interface ITensorSource
{
    /// <summary>Where the tensors come from, for messages.</summary>
    string Description { get; }

    /// <summary>Every tensor name.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The shape of one tensor, without reading it.</summary>
    long[] ShapeOf(string name);

    /// <summary>Reads one tensor into a new CPU tensor, optionally converted to <paramref name="convertTo"/>.</summary>
    torch.Tensor Read(string name, torch.ScalarType? convertTo = null);
}
