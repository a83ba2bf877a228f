using LatentLab.Training;

namespace LatentLab.Tests.Training;

public class AtomicFilesTests
{
    [Fact]
    public void Failed_write_keeps_the_previous_file_and_leaves_no_temporary()
    {
        string folder = TestPaths.NewTemporaryFolder();
        string path = Path.Combine(folder, "state.json");
        AtomicFiles.WriteAllText(path, "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFiles.Write(path, stream =>
        {
            stream.Write("half"u8);
            throw new InvalidOperationException("crash mid-write");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void Directory_is_replaced_whole_or_not_at_all()
    {
        string parent = TestPaths.NewTemporaryFolder();
        string checkpoint = Path.Combine(parent, "checkpoint");
        AtomicFiles.ReplaceDirectory(checkpoint, folder => File.WriteAllText(Path.Combine(folder, "epoch"), "1"));
        AtomicFiles.ReplaceDirectory(checkpoint, folder => File.WriteAllText(Path.Combine(folder, "epoch"), "2"));

        Assert.Throws<IOException>(() => AtomicFiles.ReplaceDirectory(checkpoint, folder =>
        {
            File.WriteAllText(Path.Combine(folder, "epoch"), "3");
            throw new IOException("disk full");
        }));

        Assert.Equal("2", File.ReadAllText(Path.Combine(checkpoint, "epoch")));
        Assert.Equal([checkpoint], Directory.GetDirectories(parent));
    }
}
