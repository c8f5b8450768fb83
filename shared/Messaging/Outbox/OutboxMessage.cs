using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Messaging;

public sealed record OutboxMessage(long Sequence, string Topic, byte[] Payload);
