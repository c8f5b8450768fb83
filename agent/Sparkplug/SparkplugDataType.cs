namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// The Sparkplug B metric data type codes (Sparkplug 3.0.0, 6.4.16). The agent's counters are UInt64
/// (long_value), never UInt32, whose value field decoders disagree on (int_value or long_value).
/// </summary>
public static class SparkplugDataType
{
    public const uint Int64 = 4, UInt64 = 8, Float = 9, Double = 10, Boolean = 11, String = 12, DateTime = 13, Bytes = 17;
}
