using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>The edge node's metrics (NBIRTH, NDATA); docs/SPARKPLUG.md lists them with their meaning.</summary>
public static class NodeMetrics
{
    public static readonly MetricDefinition BdSeq = new("bdSeq", SparkplugDataType.Int64, 0);
    public static readonly MetricDefinition Rebirth = new("Node Control/Rebirth", SparkplugDataType.Boolean, 1);
    public static readonly MetricDefinition LastCommand = new("Node Control/Last Command", SparkplugDataType.String, 2);
    public static readonly MetricDefinition Version = new("Properties/Agent Version", SparkplugDataType.String, 3);
    public static readonly MetricDefinition ModelsLoaded = new("Models/Loaded", SparkplugDataType.UInt64, 4);
    public static readonly MetricDefinition ModelIds = new("Models/Ids", SparkplugDataType.String, 5);
    public static readonly MetricDefinition JsonBroker = new("Broker/JSON Topics Connected", SparkplugDataType.Boolean, 6);
    public static readonly MetricDefinition OutboxPending = new("Outbox/Pending", SparkplugDataType.UInt64, 7);
    public static readonly MetricDefinition OutboxWritable = new("Outbox/Writable", SparkplugDataType.Boolean, 8);
    public static readonly MetricDefinition FramesDropped = new("Frames/Dropped", SparkplugDataType.UInt64, 9);
    public static readonly MetricDefinition ErrorsWithoutModel = new("Frames/Errors Without Model", SparkplugDataType.UInt64, 10);

    /// <summary>Every node metric that NDATA may update (all but bdSeq and the rebirth control).</summary>
    public static readonly MetricDefinition[] Reported =
        [LastCommand, Version, ModelsLoaded, ModelIds, JsonBroker, OutboxPending, OutboxWritable, FramesDropped, ErrorsWithoutModel];
}
