using EdgePatchCore.Deployment;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Messaging;
using EdgePatchCore.Trainer.Cli;
using MQTTnet;

namespace EdgePatchCore.Trainer.Commands;

/// <summary>
/// How the trainer's device commands (deploy, collect) reach an agent: the broker options they share, the
/// topic prefix, and one MQTT 5 connection with TLS and credentials.
/// </summary>
internal static class DeviceLink
{
    public static readonly OptionSpec[] Options =
    [
        new("broker", "MQTT broker", "HOST[:PORT]"),
        new("device", "the agent's device id (topic prefix edgepatchcore/ID)", "ID"),
        new("prefix", "the agent's topic prefix, if it is not edgepatchcore/ID", "PREFIX"),
        new("username", "broker user name", "USER"),
        new("password-file", "file holding the broker password (or set EDGEPATCHCORE_MQTT_PASSWORD)", "FILE"),
        new("tls", "connect with TLS"),
        new("ca-file", "CA certificate(s) that signed the broker's certificate (PEM)", "FILE"),
        new("cert", "client certificate (PEM)", "FILE"),
        new("key", "client certificate's private key (PEM)", "FILE"),
    ];

    public static string Prefix(CommandLine args) =>
        args.Get("prefix") ?? $"edgepatchcore/{args.Get("device") ?? throw new UsageException("--device ID (or --prefix) is required")}";

    /// <summary>Checks the options now (before any long work); the returned function connects.</summary>
    public static Func<Func<MqttApplicationMessageReceivedEventArgs, Task>, CancellationToken, Task<IMqttClient>> Prepare(CommandLine args,
        string kind)
    {
        var (host, port) = ParseBroker(args.Require("broker"), args.Has("tls"));
        var security = new BrokerSecurity
        {
            Tls = args.Has("tls"), CaFile = args.Get("ca-file"), ClientCertificateFile = args.Get("cert"), ClientKeyFile = args.Get("key"),
            Username = args.Get("username"), PasswordFile = args.Get("password-file"),
            Password = Environment.GetEnvironmentVariable("EDGEPATCHCORE_MQTT_PASSWORD"),
        };
        foreach (var file in new[] { security.CaFile, security.ClientCertificateFile, security.ClientKeyFile, security.PasswordFile })
            if (file is not null && !File.Exists(file)) throw new UsageException($"{file} does not exist");
        return async (onMessage, cancel) =>
        {
            string clientId = $"edgepatchcore-{kind}-{Environment.MachineName}-{Environment.ProcessId}";
            string? tlsProblem = null;
            var options = security.Apply(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(clientId)
                    .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(true).WithTimeout(TimeSpan.FromSeconds(15)),
                host, reason => tlsProblem = reason).Build().WithLargeSocketBuffers();
            var client = new MqttClientFactory().CreateMqttClient();
            client.ApplicationMessageReceivedAsync += onMessage;
            try
            {
                var connected = await client.ConnectAsync(options, cancel);
                if (connected.ResultCode != MqttClientConnectResultCode.Success)
                    throw new DeployException($"broker {host}:{port} refused the connection: {connected.ResultCode}");
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or System.Net.Sockets.SocketException
                                      || (e is OperationCanceledException && !cancel.IsCancellationRequested))
            {
                client.Dispose();
                throw new DeployException($"cannot connect to broker {host}:{port}: {tlsProblem ?? e.Message}");
            }
            return client;
        };
    }

    private static (string Host, int Port) ParseBroker(string text, bool tls)
    {
        int colon = text.LastIndexOf(':');
        if (colon < 0) return (text, tls ? 8883 : 1883);
        if (!int.TryParse(text[(colon + 1)..], out int port) || port is < 1 or > 65535)
            throw new UsageException($"--broker '{text}': the port must be 1..65535");
        return (text[..colon], port);
    }
}
