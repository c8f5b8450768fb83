using EdgePatchCore.Agent.Sparkplug.Protocol;
using Google.Protobuf;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>A message of the edge node: topic and encoded payload.</summary>
public sealed record SparkplugMessage(string Topic, byte[] Payload);
