using System.Diagnostics;
using EdgePatchCore.FileSystem;
using EdgePatchCore.Imaging;

namespace EdgePatchCore.Tests.FileSystem;

public class RegularFileTests
{
    internal static void MakeFifo(string path)
    {
        using var p = Process.Start("mkfifo", [path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public async Task Only_regular_files_are_read_and_a_fifo_without_a_writer_does_not_hang_the_reader()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("frame.png"), [1, 2, 3]);
        MakeFifo(dir.File("pipe.png"));
        File.CreateSymbolicLink(dir.File("link.png"), dir.File("frame.png"));
        Directory.CreateDirectory(dir.File("folder.png"));

        Assert.Equal([1, 2, 3], RegularFile.Read(dir.File("frame.png"), 100));
        var read = Task.Run(() => Assert.Throws<FileRefusedException>(() => RegularFile.Read(dir.File("pipe.png"), 100)));
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read, "reading a FIFO blocked");
        Assert.Contains("a FIFO (named pipe), not a regular file", (await read).Message);
        Assert.Contains("a symbolic link, not a regular file", Assert.Throws<FileRefusedException>(() => RegularFile.Read(dir.File("link.png"), 100)).Message);
        Assert.Contains("a directory, not a regular file", Assert.Throws<FileRefusedException>(() => RegularFile.Read(dir.File("folder.png"), 100)).Message);
        Assert.Contains("a character device", Assert.Throws<FileRefusedException>(() => RegularFile.Read("/dev/zero", 100)).Message);
        Assert.Contains("no such file", Assert.Throws<FileRefusedException>(() => RegularFile.Read(dir.File("missing.png"), 100)).Message);
    }

    [Fact]
    public void A_file_over_the_limit_is_refused_without_being_read()
    {
        using var dir = new TempFolder();
        using (var f = File.Create(dir.File("huge.jpg"))) f.SetLength(8L << 30); // sparse: 8 GiB claimed, nothing on disk
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<FileRefusedException>(() => RegularFile.Read(dir.File("huge.jpg"), 64 << 20));
        Assert.Contains("over the limit of 67108864", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        File.WriteAllBytes(dir.File("exact.bin"), new byte[1000]);
        Assert.Equal(1000, RegularFile.Read(dir.File("exact.bin"), 1000).Length);
        Assert.Throws<FileRefusedException>(() => RegularFile.Read(dir.File("exact.bin"), 999));
    }

    [Fact]
    public async Task The_image_loader_refuses_special_files_by_name()
    {
        using var dir = new TempFolder();
        MakeFifo(dir.File("pipe.jpg"));
        var decode = Task.Run(() => Assert.Throws<ImageLoadException>(() => new ImageLoader().Decode(dir.File("pipe.jpg"))));
        Assert.True(await Task.WhenAny(decode, Task.Delay(TimeSpan.FromSeconds(10))) == decode, "decoding a FIFO blocked");
        Assert.Contains("not a regular file", (await decode).Message);
    }

    [Fact]
    public void Durable_writes_replace_the_file_whole_and_leave_no_temporary_behind()
    {
        using var dir = new TempFolder();
        DurableFile.Write(dir.File("state.json"), "first"u8.ToArray());
        DurableFile.Write(dir.File("state.json"), "second"u8.ToArray());
        Assert.Equal("second", File.ReadAllText(dir.File("state.json")));
        Assert.Equal(["state.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
