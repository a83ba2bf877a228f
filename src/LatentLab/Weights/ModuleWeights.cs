using TorchSharp;

namespace LatentLab.Weights;

/// <summary>Moves a module's parameters and buffers to and from safetensors, by name.</summary>
public static class ModuleWeights
{
    /// <summary>How many names of each kind a loading error lists before "and N more".</summary>
    private const int NamesShown = 5;

    /// <summary>
    /// Copies every tensor of <paramref name="source"/> into the module's state of the same name (after
    /// <paramref name="mapKey"/>, which may rename a key or return null to skip it), converting dtype as needed.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// With <paramref name="strict"/>: tensors missing from the source, tensors the module does not have, or shapes
    /// that differ; the message lists the first few of each by name.
    /// </exception>
    public static void Load(torch.nn.Module module, ITensorSource source, Func<string, string?>? mapKey = null,
        bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        Dictionary<string, torch.Tensor> state = module.state_dict();
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var misshaped = new List<string>();

        using (torch.no_grad())
        {
            foreach (string name in source.Names.Order(StringComparer.Ordinal))
            {
                string? target = mapKey is null ? name : mapKey(name);
                if (target is null) continue;
                if (!state.TryGetValue(target, out torch.Tensor? destination))
                {
                    unexpected.Add(name);
                    continue;
                }
                long[] shape = source.ShapeOf(name);
                if (!shape.SequenceEqual(destination.shape))
                {
                    loaded.Add(target);   // present, just wrong: reported as mis-shaped, not also as missing
                    misshaped.Add($"{target} (file [{string.Join(", ", shape)}], " +
                                  $"model [{string.Join(", ", destination.shape)}])");
                    continue;
                }
                using torch.Tensor value = source.Read(name);
                destination.copy_(value);
                loaded.Add(target);
            }
        }

        List<string> missing = state.Keys.Where(name => !loaded.Contains(name)).ToList();
        if (!strict || (missing.Count == 0 && unexpected.Count == 0 && misshaped.Count == 0)) return;
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing {Describe(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected {Describe(unexpected)}");
        if (misshaped.Count > 0) problems.Add($"mis-shaped {Describe(misshaped)}");
        throw new InvalidDataException(
            $"{source.Description}: weights do not fit {module.GetName()}: {string.Join("; ", problems)}.");
    }

    /// <summary>Writes the module's state (parameters and persistent buffers) to a safetensors file, atomically.</summary>
    public static void Save(torch.nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        SafeTensorsWriter.Save(path, module.state_dict(), metadata);
    }

    private static string Describe(List<string> names)
    {
        string shown = string.Join(", ", names.Take(NamesShown));
        return names.Count > NamesShown ? $"{shown} and {names.Count - NamesShown} more" : shown;
    }
}
