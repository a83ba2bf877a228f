using static TorchSharp.torch;

namespace LatentLab.StableDiffusion;

/// <summary>
/// Normalisations computed in float32 whatever the weights' dtype: under bfloat16 a layer or group norm's mean and
/// variance over thousands of values lose too much precision, so inputs are upcast and the result cast back.
/// </summary>
internal static class Float32Norms
{
    /// <summary>Layer norm over the last dimension; <paramref name="weight"/> and <paramref name="bias"/> optional.</summary>
    public static Tensor LayerNorm(Tensor input, Tensor? weight, Tensor? bias, double eps)
    {
        long[] normalizedShape = [input.shape[^1]];
        if (input.dtype == ScalarType.Float32)
            return nn.functional.layer_norm(input, normalizedShape, weight, bias, eps);
        using var scope = NewDisposeScope();
        Tensor output = nn.functional.layer_norm(
            input.to(ScalarType.Float32), normalizedShape, weight?.to(ScalarType.Float32), bias?.to(ScalarType.Float32), eps);
        return output.to(input.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Group norm of <c>[B, C, ...]</c> with per-channel affine parameters.</summary>
    public static Tensor GroupNorm(Tensor input, long numGroups, Tensor weight, Tensor bias, double eps)
    {
        if (input.dtype == ScalarType.Float32)
            return nn.functional.group_norm(input, numGroups, weight, bias, eps);
        using var scope = NewDisposeScope();
        Tensor output = nn.functional.group_norm(
            input.to(ScalarType.Float32), numGroups, weight.to(ScalarType.Float32), bias.to(ScalarType.Float32), eps);
        return output.to(input.dtype).MoveToOuterDisposeScope();
    }
}
