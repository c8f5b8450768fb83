namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// One device's metrics (DBIRTH, DDATA). Each device (one per product) gets its own block of aliases:
/// device number n uses n x 100 + the offset below, so aliases are unique across the edge node.
/// </summary>
public sealed class DeviceMetrics(int number)
{
    private MetricDefinition M(string name, uint type, int offset) => new(name, type, (ulong)(number * 100 + offset));

    public MetricDefinition Verdict => M("Inspection/Verdict", SparkplugDataType.String, 1);
    public MetricDefinition Score => M("Inspection/Score", SparkplugDataType.Float, 2);
    public MetricDefinition Threshold => M("Inspection/Threshold", SparkplugDataType.Float, 3);
    public MetricDefinition NormalizedScore => M("Inspection/Normalized Score", SparkplugDataType.Float, 4);
    public MetricDefinition ModelId => M("Inspection/Model Id", SparkplugDataType.String, 5);
    public MetricDefinition FrameId => M("Inspection/Frame Id", SparkplugDataType.String, 6);
    public MetricDefinition Error => M("Inspection/Error", SparkplugDataType.String, 7);
    public MetricDefinition ScoredAt => M("Inspection/Scored At", SparkplugDataType.DateTime, 8);
    public MetricDefinition Ok => M("Counters/OK", SparkplugDataType.UInt64, 10);
    public MetricDefinition Defect => M("Counters/Defect", SparkplugDataType.UInt64, 11);
    public MetricDefinition Errors => M("Counters/Error", SparkplugDataType.UInt64, 12);
    public MetricDefinition Dropped => M("Counters/Dropped", SparkplugDataType.UInt64, 13);
    public MetricDefinition LatencyP50 => M("Latency/P50 ms", SparkplugDataType.Double, 20);
    public MetricDefinition LatencyP95 => M("Latency/P95 ms", SparkplugDataType.Double, 21);
    public MetricDefinition LastDefectHeatmap => M("Heatmap/Last Defect", SparkplugDataType.Bytes, 30);
    // The handshake (a triggered camera only): a DCMD writing a part id to Trigger/Inspect triggers it; its answer follows.
    public MetricDefinition Inspect => M("Trigger/Inspect", SparkplugDataType.String, 40);
    public MetricDefinition PartId => M("Trigger/Part Id", SparkplugDataType.String, 41);
    public MetricDefinition Result => M("Trigger/Result", SparkplugDataType.String, 42);
    public MetricDefinition Reason => M("Trigger/Reason", SparkplugDataType.String, 43);
    public MetricDefinition TriggerToResult => M("Trigger/Trigger To Result ms", SparkplugDataType.Double, 44);
}
