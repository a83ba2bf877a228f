namespace LatentLab.Vae;

/// <summary>
/// How well a VAE models held-out images, in nats per image (lower is better).
/// </summary>
/// <param name="Images">Images evaluated.</param>
/// <param name="NegativeElbo">Reconstruction + KL: an upper bound on -log p(x), one z sample per image.</param>
/// <param name="Reconstruction">E_q[-log p(x | z)]: binary cross-entropy summed over pixels.</param>
/// <param name="Kl">KL(q(z | x) || p(z)) summed over latent dimensions (the true ELBO's weighting, whatever the
/// training reduction).</param>
/// <param name="ImportanceSamples">k, the samples per image of the importance-weighted estimate.</param>
/// <param name="ImportanceWeightedNll">
/// -log (1/k sum_i p(x | z_i) p(z_i) / q(z_i | x)), z_i ~ q(z | x): a tighter bound that approaches -log p(x)
/// as k grows (Burda et al., 2016, eq. 8).
/// </param>
public sealed record VaeEvaluation(
    int Images,
    double NegativeElbo,
    double Reconstruction,
    double Kl,
    int ImportanceSamples,
    double ImportanceWeightedNll);
