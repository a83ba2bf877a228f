using System.Text.Json;
using TorchSharp;

namespace LatentLab.Weights;

/// <summary>
/// Named tensors spread over one or more safetensors files: a single file, or a model folder as published in the
/// diffusers and transformers layouts (one <c>*.safetensors</c>, or shards listed by a <c>*.safetensors.index.json</c>).
/// </summary>
public sealed class TensorSource : ITensorSource, IDisposable
{
    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, SafeTensorsFile> _owners;

    private TensorSource(string description, List<SafeTensorsFile> files)
    {
        Description = description;
        _files = files;
        _owners = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        foreach (SafeTensorsFile file in files)
        {
            foreach (string name in file.Tensors.Keys)
            {
                if (!_owners.TryAdd(name, file))
                {
                    Dispose();
                    throw new InvalidDataException(
                        $"tensor '{name}' appears in both {_owners[name].Path} and {file.Path}.");
                }
            }
        }
    }

    /// <summary>The file or folder the tensors come from, for messages.</summary>
    public string Description { get; }

    /// <summary>Every tensor name.</summary>
    public IReadOnlyCollection<string> Names => _owners.Keys;

    /// <summary>Metadata of the first file (safetensors metadata is per file).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _files.Count > 0 ? _files[0].Metadata : new Dictionary<string, string>();

    /// <summary>Opens one safetensors file.</summary>
    public static TensorSource OpenFile(string path) => new(path, [SafeTensorsFile.Open(path)]);

    /// <summary>
    /// Opens the weights of a model folder: the shards named by a <c>*.safetensors.index.json</c> if there is one,
    /// otherwise every <c>*.safetensors</c> file in the folder.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No weights, a broken index, or a broken file.</exception>
    public static TensorSource OpenFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such model folder.");

        string[] indexes = Directory.GetFiles(folder, "*.safetensors.index.json");
        IEnumerable<string> paths = indexes.Length switch
        {
            0 => Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal),
            1 => ShardsOf(indexes[0]),
            _ => throw new InvalidDataException($"{folder}: several *.safetensors.index.json files; expected one."),
        };
        List<string> files = paths.ToList();
        if (files.Count == 0) throw new InvalidDataException($"{folder}: no *.safetensors weights in this folder.");

        var opened = new List<SafeTensorsFile>();
        try
        {
            foreach (string path in files) opened.Add(SafeTensorsFile.Open(path));
        }
        catch
        {
            opened.ForEach(file => file.Dispose());
            throw;
        }
        return new TensorSource(folder, opened);
    }

    /// <summary>Header facts of one tensor.</summary>
    public SafeTensorInfo Info(string name) => Owner(name).Tensors[name];

    /// <inheritdoc />
    public long[] ShapeOf(string name) => Info(name).Shape;

    /// <summary>Whether a tensor of this name exists.</summary>
    public bool Contains(string name) => _owners.ContainsKey(name);

    /// <summary>Reads one tensor into a new CPU tensor (see <see cref="SafeTensorsFile.ReadTensor"/>).</summary>
    public torch.Tensor Read(string name, torch.ScalarType? convertTo = null) => Owner(name).ReadTensor(name, convertTo);

    private SafeTensorsFile Owner(string name) =>
        _owners.TryGetValue(name, out SafeTensorsFile? file)
            ? file
            : throw new KeyNotFoundException($"{Description}: no tensor named '{name}'.");

    private static List<string> ShardsOf(string indexPath)
    {
        string folder = System.IO.Path.GetDirectoryName(indexPath)!;
        try
        {
            using JsonDocument index = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            JsonElement weightMap = index.RootElement.GetProperty("weight_map");
            var shards = new SortedSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in weightMap.EnumerateObject())
            {
                string shard = entry.Value.GetString() ?? throw new InvalidDataException("null shard name");
                // A shard name is a file in this folder, never a path elsewhere.
                if (shard != System.IO.Path.GetFileName(shard))
                    throw new InvalidDataException($"shard '{shard}' is not a plain file name");
                shards.Add(shard);
            }
            return shards.Select(shard => System.IO.Path.Combine(folder, shard)).ToList();
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException
                                          or InvalidDataException)
        {
            throw new InvalidDataException($"{indexPath}: not a valid shard index ({error.Message}).", error);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (SafeTensorsFile file in _files) file.Dispose();
        _files.Clear();
    }
}
