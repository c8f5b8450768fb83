using System.Text;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Tests.Messaging;

public class OutboxTests
{
    private static Outbox Open(string dir, int max = 100) => new(dir, max, sync: true, NullLogger.Instance);
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Messages_come_out_in_order_and_survive_a_restart()
    {
        using var folder = new TempFolder();
        var outbox = Open(folder.Path);
        outbox.Append("p/verdict", B("one"));
        outbox.Append("p/event", B("two"));
        outbox.Append("p/verdict", B("three"));
        var first = outbox.Peek()!;
        Assert.Equal(("p/verdict", "one"), (first.Topic, Encoding.UTF8.GetString(first.Payload)));
        outbox.Remove(first.Sequence);

        var reopened = Open(folder.Path); // a restart (or a crash: everything appended is already on disk)
        Assert.Equal(2, reopened.Count);
        long seq = reopened.Append("p/verdict", B("four"));
        var order = new List<string>();
        while (reopened.Peek() is { } m)
        {
            order.Add(Encoding.UTF8.GetString(m.Payload));
            reopened.Remove(m.Sequence);
        }
        Assert.Equal(["two", "three", "four"], order);
        Assert.True(seq > first.Sequence);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.msg"));
    }

    [Fact]
    public void Beyond_the_cap_the_oldest_are_discarded_and_counted()
    {
        using var folder = new TempFolder();
        var outbox = Open(folder.Path, max: 3);
        for (int i = 0; i < 5; i++) outbox.Append("t", B($"m{i}"));
        Assert.Equal(3, outbox.Count);
        Assert.Equal(2, outbox.Discarded);
        Assert.Equal("m2", Encoding.UTF8.GetString(outbox.Peek()!.Payload));
        Assert.Equal(3, Directory.GetFiles(folder.Path, "*.msg").Length);
    }

    [Fact]
    public void Beyond_the_byte_cap_the_oldest_are_discarded_and_a_rejected_message_is_set_aside()
    {
        using var folder = new TempFolder();
        var outbox = new Outbox(folder.Path, maxMessages: 1000, sync: false, NullLogger.Instance, maxBytes: 10_000);
        for (int i = 0; i < 10; i++) outbox.Append("t", new byte[2000]); // 2,017 bytes on disk each: four fit
        Assert.Equal(4, outbox.Count);
        Assert.InRange(outbox.Bytes, 8_000, 10_000);
        Assert.Equal(6, outbox.Discarded);
        Assert.Equal(outbox.Bytes, Directory.GetFiles(folder.Path, "*.msg").Sum(f => new FileInfo(f).Length));

        var head = outbox.Peek()!;
        outbox.SetAside(head.Sequence, "over the broker's maximum packet size");
        Assert.Equal(1, outbox.SetAsideCount);
        Assert.NotEqual(head.Sequence, outbox.Peek()!.Sequence);
        Assert.Contains("maximum packet size", File.ReadAllText(Directory.GetFiles(Path.Combine(folder.Path, "rejected"), "*.reason").Single()));
        Assert.Equal(3, new Outbox(folder.Path, 1000, false, NullLogger.Instance).Count); // and after a restart
    }

    [Fact]
    public void Torn_and_corrupt_entries_are_set_aside_without_blocking_the_rest()
    {
        using var folder = new TempFolder();
        var outbox = Open(folder.Path);
        outbox.Append("t", B("first"));
        outbox.Append("t", B("second"));
        File.WriteAllBytes(Path.Combine(folder.Path, "0000000000000099.msg.tmp"), [1, 2, 3]); // a crash mid-write
        var firstFile = Directory.GetFiles(folder.Path, "*.msg").Order().First();
        File.WriteAllBytes(firstFile, File.ReadAllBytes(firstFile)[..12]); // truncated by a disk fault

        var reopened = Open(folder.Path);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
        Assert.Equal("second", Encoding.UTF8.GetString(reopened.Peek()!.Payload));
        Assert.Single(Directory.GetFiles(Path.Combine(folder.Path, "corrupt")));
    }
}
