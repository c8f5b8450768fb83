namespace EdgePatchCore.Agent.Configuration;

public sealed class SourcesOptions
{
    public FolderSourceOptions? Folder { get; set; }
    public MqttSourceOptions? Mqtt { get; set; }
    public MjpegSourceOptions? Mjpeg { get; set; }
    public HttpSourceOptions? Http { get; set; }
    public GenICamSourceOptions? GenICam { get; set; }
}
