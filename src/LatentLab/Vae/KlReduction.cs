namespace LatentLab.Vae;

/// <summary>How the KL regularisation term of the VAE loss is reduced over latent dimensions and the batch.</summary>
public enum KlReduction
{
    /// <summary>
    /// Mean over the batch and over latent dimensions: the reference chapter's weighting (the default). With a
    /// 2-D latent this weighs the KL term half as much as a true ELBO would.
    /// </summary>
    Mean,

    /// <summary>Sum over latent dimensions, mean over the batch: the keras.io example, and the true ELBO.</summary>
    Sum,
}
