using System.Security.Cryptography;
using EdgePatchCore.Deployment;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgePatchCore.Tests.Messaging;

/// <summary>The receiving half of a deploy transfer: chunks checked and kept on disk, resumable, assembled and hash-checked.</summary>
public class TransferStoreTests
{
    private const int ChunkSize = 64 << 10;

    private static (byte[] File, DeployBegin Begin) Artifact(int size, string? sha = null)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        string hash = sha ?? DeployProtocol.Hex(SHA256.HashData(bytes));
        return (bytes, new DeployBegin(DeployProtocol.TransferIdOf(hash), "model.pcb", size, hash, ChunkSize,
                                       (int)DeployProtocol.ChunkCountFor(size, ChunkSize), "gasket"));
    }

    private static byte[] Chunk(byte[] file, DeployBegin begin, int index) =>
        file.AsSpan(index * ChunkSize, begin.ChunkLength(index)).ToArray();

    private static string Hash(byte[] chunk) => DeployProtocol.Hex(SHA256.HashData(chunk));

    [Fact]
    public void Good_chunks_are_kept_and_damaged_duplicate_or_unknown_ones_are_not()
    {
        using var work = new TempFolder();
        var store = new TransferStore<string>(work.Path, NullLogger.Instance);
        var (file, begin) = Artifact(3 * ChunkSize + 100);
        var transfer = store.Open(begin, "slot", work.File("model.pcb"));
        AssertMissing(transfer, [0, 1, 2, 3], 4);

        var first = Chunk(file, begin, 0);
        store.Accept(begin.TransferId, "0", Hash(first), first);
        store.Accept(begin.TransferId, "0", Hash(first), first);                         // a redelivery
        var damaged = Chunk(file, begin, 1);
        store.Accept(begin.TransferId, "1", Hash(damaged), damaged.Select(b => (byte)~b).ToArray()); // bytes changed in transit
        store.Accept(begin.TransferId, "2", Hash(Chunk(file, begin, 2)), Chunk(file, begin, 2)[..100]); // cut short
        store.Accept(begin.TransferId, "9", Hash(first), first);                         // no such index
        store.Accept("0000000000000000", "3", Hash(first), first);                       // no such transfer

        Assert.Equal(1, transfer.ReceivedCount);
        AssertMissing(transfer, [1, 2, 3], 3);
    }

    [Fact]
    public void A_complete_transfer_assembles_to_the_sent_file_and_a_wrong_hash_deletes_it()
    {
        using var work = new TempFolder();
        var store = new TransferStore<string>(work.Path, NullLogger.Instance);
        var (file, begin) = Artifact(2 * ChunkSize + 7);
        var transfer = store.Open(begin, "slot", work.File("model.pcb"));
        for (int i = 0; i < begin.ChunkCount; i++) store.Accept(begin.TransferId, i.ToString(), Hash(Chunk(file, begin, i)), Chunk(file, begin, i));
        Assert.Equal(0, Missing(transfer).Count);
        var assembled = store.Assemble(transfer);
        Assert.NotNull(assembled);
        Assert.Equal(file, File.ReadAllBytes(assembled));

        var (other, lying) = Artifact(ChunkSize + 3, sha: new string('0', 64)); // announces a hash the bytes do not have
        var bad = store.Open(lying, "slot", work.File("other.pcb"));
        for (int i = 0; i < lying.ChunkCount; i++) store.Accept(lying.TransferId, i.ToString(), Hash(Chunk(other, lying, i)), Chunk(other, lying, i));
        Assert.Null(store.Assemble(bad));
        Assert.False(store.TryGet(lying.TransferId, out _));
        Assert.False(Directory.Exists(bad.Directory));
    }

    [Fact]
    public void A_restart_resumes_with_the_chunks_already_received_and_drops_what_has_no_slot()
    {
        using var work = new TempFolder();
        var (file, begin) = Artifact(3 * ChunkSize);
        var (_, orphan) = Artifact(ChunkSize + 1);
        var before = new TransferStore<string>(work.Path, NullLogger.Instance);
        before.Open(begin, "slot", work.File("model.pcb"));
        before.Open(orphan, "gone", work.File("gone.pcb"));
        for (int i = 0; i < 2; i++) before.Accept(begin.TransferId, i.ToString(), Hash(Chunk(file, begin, i)), Chunk(file, begin, i));

        var after = new TransferStore<string>(work.Path, NullLogger.Instance);
        after.Recover(TimeSpan.FromMinutes(60), b => b.TransferId == begin.TransferId ? ("slot", work.File("model.pcb")) : null);
        Assert.True(after.TryGet(begin.TransferId, out var resumed));
        AssertMissing(resumed, [2], 1);
        Assert.False(after.TryGet(orphan.TransferId, out _));
        Assert.False(Directory.Exists(Path.Combine(work.Path, "transfers", orphan.TransferId)));

        resumed.LastActivityUtc = DateTime.UtcNow.AddHours(-2);
        after.Expire(TimeSpan.FromMinutes(60));
        Assert.Empty(after.InProgress);
        Assert.False(Directory.Exists(resumed.Directory));
    }

    private static (int[] Listed, int Count) Missing(TransferStore<string>.Transfer transfer) => TransferStore<string>.Missing(transfer);

    private static void AssertMissing(TransferStore<string>.Transfer transfer, int[] listed, int count)
    {
        var (l, c) = Missing(transfer);
        Assert.Equal(listed, l);
        Assert.Equal(count, c);
    }
}
