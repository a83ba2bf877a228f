using System.CommandLine;

namespace LatentLab.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("LatentLab: learn latent spaces of images and sample new pictures from them.");
        return root.Parse(args).Invoke();
    }
}
