using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// Creates a text encoder's layers in one dtype on one device: randomly initialised for a model built from a
/// config, or uninitialised storage for a model whose every tensor strict weight loading is about to overwrite.
/// The second saves the random initialisation's cost, most of a minute for T5-XXL's 4.7 billion weights on a CPU.
/// </summary>
internal sealed class LayerFactory(ScalarType dtype, Device device, bool initialise)
{
    public ScalarType DType => dtype;

    public Device Device => device;

    /// <summary>A linear layer [outputs, inputs] with an optional bias.</summary>
    public Linear Linear(long inputs, long outputs, bool hasBias)
    {
        if (initialise) return nn.Linear(inputs, outputs, hasBias, device, dtype);
        Parameter weight = new(empty(outputs, inputs, dtype, device), requires_grad: false);
        Parameter? bias = hasBias ? new Parameter(empty(outputs, dtype, device), requires_grad: false) : null;
        return nn.Linear(weight, bias);
    }

    /// <summary>
    /// An embedding table [count, width], always initialised: TorchSharp's from-a-tensor constructor keeps a weight
    /// that loading by name does not reach, and a normal draw costs little next to the linear layers.
    /// </summary>
    public Embedding Embedding(long count, long width) => nn.Embedding(count, width, device: device, dtype: dtype);

    /// <summary>A norm's scale, ones (loading overwrites it).</summary>
    public Parameter Ones(long count) => new(ones(count, dtype, device), requires_grad: false);

    /// <summary>A norm's shift, zeros (loading overwrites it).</summary>
    public Parameter Zeros(long count) => new(zeros(count, dtype, device), requires_grad: false);
}
