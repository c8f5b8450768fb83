using EdgePatchCore.Agent.Cameras;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Messages;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Sources;

/// <summary>The configured frame sources, each registered with a <see cref="FrameSourceRegistration"/>.</summary>
public static class SourcesRegistration
{
    public static IServiceCollection AddSources(this IServiceCollection services, AgentOptions options)
    {
        var s = options.Sources;
        services.AddSingleton<IValidateOptions<AgentOptions>, SourcesOptionsValidation>();
        if (s.Mqtt is not null) services.AddHosted<MqttImageSource>().AddAs<MqttImageSource,
            IInboundHandler>().AddSingleton(new FrameSourceRegistration("mqtt"));
        if (s.Folder is not null) services.AddHosted<FolderSource>().AddSingleton(new FrameSourceRegistration("folder"));
        if (s.Mjpeg is not null) services.AddHosted<MjpegSource>().AddSingleton(new FrameSourceRegistration("mjpeg"));
        if (s.Http is not null)
        {
            services.AddHttpClient(HttpSnapshotSource.ClientName, (sp, http) =>
            {
                var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
                http.Timeout = TimeSpan.FromMilliseconds(o.Sources.Http!.TimeoutMilliseconds);
                http.MaxResponseContentBufferSize = o.Limits.MaxFrameBytes;
            });
            services.AddHosted<HttpSnapshotSource>().AddSingleton(new FrameSourceRegistration("http"));
        }
        if (s.GenICam is not null)
        {
            services.AddSingleton(new CameraCounters(s.GenICam.Describe()))
                .AddSingleton<IDeviceStatus>(sp => sp.GetRequiredService<CameraCounters>());
            services.AddHosted<GenICamSource>().AddSingleton(new FrameSourceRegistration("genicam"));
        }
        return services;
    }
}
