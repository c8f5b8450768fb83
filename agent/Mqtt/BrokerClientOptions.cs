using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Messaging;
using MQTTnet;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>
/// What every MQTT connection of the agent shares (the JSON topics' and the Sparkplug edge node's): the broker
/// address, MQTT 5, keep-alive, TLS and credentials from Agent:Broker, and the reconnect backoff.
/// </summary>
public static class BrokerClientOptions
{
    public static MqttClientOptionsBuilder Base(BrokerOptions b, string clientId) => new MqttClientOptionsBuilder()
        .WithTcpServer(b.Host, b.Port)
        .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
        .WithClientId(clientId)
        .WithKeepAlivePeriod(TimeSpan.FromSeconds(b.KeepAliveSeconds))
        .WithTimeout(TimeSpan.FromSeconds(10));

    /// <summary>Adds TLS and credentials and builds the options (with large socket buffers).</summary>
    public static MqttClientOptions Secure(MqttClientOptionsBuilder builder, BrokerOptions b, ILogger logger)
    {
        var security = new BrokerSecurity
        {
            Tls = b.Tls, CaFile = b.CaFile, ClientCertificateFile = b.ClientCertificateFile, ClientKeyFile = b.ClientKeyFile,
            Username = b.Username, Password = b.Password, PasswordFile = b.ResolvedPasswordFile,
        };
        return security.Apply(builder, b.Host, reason => logger.LogError("TLS: {Reason}", reason)).Build().WithLargeSocketBuffers();
    }

    /// <summary>Capped exponential backoff with jitter, so that a plant's agents do not all reconnect at once.</summary>
    public static TimeSpan Backoff(BrokerOptions b, int failures)
    {
        double ms = Math.Min(b.ReconnectMaxMilliseconds, b.ReconnectMinMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }
}
