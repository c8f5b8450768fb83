using System.Buffers.Binary;
using System.Text;

namespace EdgePatchCore.Messaging;

public sealed record OutboxMessage(long Sequence, string Topic, byte[] Payload);
