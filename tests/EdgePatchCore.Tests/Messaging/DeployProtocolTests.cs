using EdgePatchCore.Deployment;

namespace EdgePatchCore.Tests.Messaging;

public class DeployProtocolTests
{
    private static readonly string Sha = new('a', 64);
    private static DeployBegin Valid => new("0123456789abcdef", "gasket.pcb", 1_000_000, Sha, 64 << 10, 16, "gasket");

    [Fact]
    public void A_well_formed_request_within_the_limit_is_accepted()
    {
        Assert.Null(Valid.Validate(maxArtifactBytes: 1_000_000));
        Assert.Null((Valid with { Slot = "line-2" }).Validate(1_000_000));
        Assert.Equal(64 << 10, Valid.ChunkLength(0));
        Assert.Equal(1_000_000 - 15 * (64 << 10), Valid.ChunkLength(15));
    }

    [Theory]
    [InlineData("transfer id")]
    [InlineData("file name")]
    [InlineData("product")]
    [InlineData("slot")]
    [InlineData("size")]
    [InlineData("chunk size")]
    [InlineData("chunk count")]
    [InlineData("sha")]
    public void Each_malformed_field_is_refused_with_a_reason(string field)
    {
        var bad = field switch
        {
            "transfer id" => Valid with { TransferId = "../../etc" },
            "file name" => Valid with { FileName = "a\nb.pcb" },
            "product" => Valid with { Product = null },
            "slot" => Valid with { Slot = "a/b" },
            "size" => Valid with { Size = 1_000_001 },
            "chunk size" => Valid with { ChunkSize = 1024, ChunkCount = 977 },
            "chunk count" => Valid with { ChunkCount = 17 },
            "sha" => Valid with { Sha256 = "xyz" },
            _ => throw new ArgumentException(field),
        };
        string? reason = bad.Validate(maxArtifactBytes: 1_000_000);
        Assert.False(string.IsNullOrEmpty(reason), $"{field} was accepted");
    }

    [Fact]
    public void Chunk_counts_use_64_bit_arithmetic()
    {
        Assert.Equal(65537, DeployProtocol.ChunkCountFor((1L << 32) + 1, 1 << 16));
        var wrapped = Valid with { Size = (1L << 32) + 5, ChunkSize = 1 << 20, ChunkCount = 5 };
        Assert.NotNull(wrapped.Validate(long.MaxValue));
        Assert.False(DeployProtocol.IsValidName(".."));
        Assert.False(DeployProtocol.IsValidName(new string('x', 129)));
        Assert.True(DeployProtocol.IsValidName("gasket"));
    }
}
