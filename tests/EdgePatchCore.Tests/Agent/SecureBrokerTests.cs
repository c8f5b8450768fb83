using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgePatchCore.Tests.Agent;

/// <summary>Log lines of a host under test.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ILogger CreateLogger(string category) => new Logger(this, category);
    public void Dispose() { }
    public bool Any(string text) => Lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel level) => true;
        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? e, Func<TState, Exception?, string> format) =>
            owner.Lines.Enqueue($"{level} {category}: {format(state, e)}");
    }
}

/// <summary>A test PKI: a CA, a broker certificate for 127.0.0.1 signed by it, and a second, unrelated CA.</summary>
public sealed class TestPki
{
    public string CaFile, OtherCaFile, ServerCertificate, ServerKey, ClientCertificate, ClientKey;

    public TestPki(TempFolder folder)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateCa("CN=EdgePatchCore Test Plant CA", caKey, now);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = CreateCa("CN=Somebody Else's CA", otherKey, now);
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=broker.test", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(30), RandomNumberGenerator.GetBytes(8));
        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=line3-cam1", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        clientRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var client = clientRequest.Create(ca, now.AddDays(-1), now.AddDays(30), RandomNumberGenerator.GetBytes(8));
        ClientCertificate = Write(folder, "client.pem", client.ExportCertificatePem());
        ClientKey = Write(folder, "client.key", clientKey.ExportPkcs8PrivateKeyPem());
        CaFile = Write(folder, "ca.pem", ca.ExportCertificatePem());
        OtherCaFile = Write(folder, "other-ca.pem", other.ExportCertificatePem());
        ServerCertificate = Write(folder, "server.pem", server.ExportCertificatePem());
        ServerKey = Write(folder, "server.key", serverKey.ExportECPrivateKeyPem());
    }

    private static X509Certificate2 CreateCa(string name, ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
    }

    private static string Write(TempFolder folder, string name, string text)
    {
        File.WriteAllText(folder.File(name), text);
        return folder.File(name);
    }
}

/// <summary>The agent against a mosquitto that requires TLS and a password.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class SecureBrokerTests(AgentFixture fixture) : IDisposable
{
    private readonly TempFolder _pki = new();
    private TestPki? _certificates;

    private MosquittoBroker StartSecureBroker() => new(folder =>
    {
        _certificates = new TestPki(_pki);
        using (var p = Process.Start("mosquitto_passwd", ["-b", "-c", folder.File("passwd"), "edge", "s3cret-line3"])!) p.WaitForExit();
        return $"""
            allow_anonymous false
            password_file {folder.File("passwd")}
            cafile {_certificates.CaFile}
            certfile {_certificates.ServerCertificate}
            keyfile {_certificates.ServerKey}
            """;
    });

    private Dictionary<string, string?> Config(MosquittoBroker broker, TempFolder work, string password, string caFile)
    {
        fixture.Signed(fixture.ModelA, work.File("served.pcb"), version: 1);
        var config = fixture.Config("tls-test", work.File("served.pcb"), work.File("state"));
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        File.WriteAllText(work.File("mqtt-password"), password + "\n");
        config["Agent:Broker:Port"] = broker.Port.ToString();
        config["Agent:Broker:Tls"] = "true";
        config["Agent:Broker:CaFile"] = caFile;
        config["Agent:Broker:Username"] = "edge";
        config["Agent:Broker:PasswordFile"] = work.File("mqtt-password");
        config["Agent:Sources:Folder:Path"] = work.File("inbox");
        config["Agent:Sources:Folder:SettleMilliseconds"] = "0";
        config["Logging:LogLevel:EdgePatchCore.Agent.Mqtt"] = "Debug";
        Directory.CreateDirectory(work.File("inbox"));
        return config;
    }

    [Fact]
    public async Task Agent_connects_with_tls_and_password_and_publishes()
    {
        using var broker = StartSecureBroker();
        using var work = new TempFolder();
        var logs = new CapturedLogs();
        await using var probe = new MqttProbe(broker.Port, "edgepatchcore/tls-test/#", b => b
            .WithCredentials("edge", "s3cret-line3")
            .WithTlsOptions(t => t.UseTls().WithTargetHost("127.0.0.1").WithCertificateValidationHandler(_ => true)));
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(Config(broker, work, "s3cret-line3", _certificates!.CaFile), logs);
        TestData.DropCopy(work.File("inbox"), "f.png", fixture.Pngs[0]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 1, TimeSpan.FromSeconds(60)), string.Join("\n", logs.Lines));

        // trainer deploy over the same secured broker; a wrong password is refused with a clear line.
        string[] secure = ["--broker", $"127.0.0.1:{broker.Port}", "--device", "tls-test", "--tls", "--ca-file", _certificates.CaFile,
                           "--username", "edge", "--password-file", work.File("mqtt-password"), "--timeout", "60"];
        fixture.Signed(fixture.ModelB, work.File("b.pcb"), version: 2);
        var deploy = await Task.Run(() => Cli.TrainerRunner.Run(["deploy", work.File("b.pcb"), .. secure]));
        Assert.True(deploy.ExitCode == 0, deploy.Out + deploy.Error);
        Assert.Contains("deployed: model", deploy.Out);
        File.WriteAllText(work.File("wrong"), "nope\n");
        var refused = await Task.Run(() => Cli.TrainerRunner.Run(["deploy", fixture.ModelB, .. secure[..^4], "--password-file", work.File("wrong"), "--timeout", "5"]));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused the connection", refused.Error);
        refused.AssertNoStackTrace();
        await host.StopAsync();
        Assert.Equal("f.png", probe.Verdicts()[0].FrameId);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("s3cret-line3")); // the password is never logged
    }

    [Fact]
    public async Task Wrong_password_and_untrusted_ca_are_refused_with_a_clear_log_line_and_retried()
    {
        using var broker = StartSecureBroker();
        foreach (var (password, ca, expected) in new[]
                 {
                     ("wrong-password", _certificates!.CaFile, "rejected the credentials of user 'edge'"),
                     ("s3cret-line3", _certificates.OtherCaFile, "is not trusted"),
                 })
        {
            using var work = new TempFolder();
            var logs = new CapturedLogs();
            using var host = await AgentFixture.StartAgentAsync(Config(broker, work, password, ca), logs);
            bool retried = SpinWait.SpinUntil(() => logs.Lines.Count(l => l.Contains("reconnect attempt")) >= 2, TimeSpan.FromSeconds(30));
            Assert.True(retried, string.Join("\n", logs.Lines));
            Assert.True(logs.Any(expected), $"expected '{expected}' in:\n{string.Join("\n", logs.Lines)}");
            TestData.DropCopy(work.File("inbox"), "kept.png", fixture.Pngs[0]);
            Assert.True(SpinWait.SpinUntil(() => Directory.GetFiles(work.File("state/outbox"), "*.msg").Length >= 1, TimeSpan.FromSeconds(30)),
                        "the verdict should wait in the outbox");
            await host.StopAsync(); // still running: stops cleanly
            Assert.DoesNotContain(logs.Lines, l => l.Contains("s3cret-line3") || l.Contains("wrong-password"));
        }
    }

    [Fact]
    public async Task Agent_authenticates_with_a_client_certificate()
    {
        TestPki? pki = null;
        using var broker = new MosquittoBroker(folder =>
        {
            pki = new TestPki(_pki);
            return $"""
                allow_anonymous false
                require_certificate true
                use_identity_as_username true
                cafile {pki.CaFile}
                certfile {pki.ServerCertificate}
                keyfile {pki.ServerKey}
                """;
        });
        foreach (bool withCertificate in new[] { true, false })
        {
            using var work = new TempFolder();
            var logs = new CapturedLogs();
            var config = fixture.Config("cert-test", fixture.ModelA, work.File("state"));
            config["Agent:Broker:Port"] = broker.Port.ToString();
            config["Agent:Broker:Tls"] = "true";
            config["Agent:Broker:CaFile"] = pki!.CaFile;
            config["Agent:Sources:Folder:Path"] = work.File("inbox");
            config["Logging:LogLevel:EdgePatchCore.Agent.Mqtt"] = "Debug";
            Directory.CreateDirectory(work.File("inbox"));
            if (withCertificate)
            {
                config["Agent:Broker:ClientCertificateFile"] = pki.ClientCertificate;
                config["Agent:Broker:ClientKeyFile"] = pki.ClientKey;
            }
            using var host = await AgentFixture.StartAgentAsync(config, logs);
            if (withCertificate)
                Assert.True(SpinWait.SpinUntil(() => logs.Any("Connected to MQTT broker"), TimeSpan.FromSeconds(20)), string.Join("\n", logs.Lines));
            else
            {
                Assert.True(SpinWait.SpinUntil(() => logs.Lines.Count(l => l.Contains("reconnect attempt")) >= 2, TimeSpan.FromSeconds(20)), "no retries");
                Assert.False(logs.Any("Connected to MQTT broker"), "the broker requires a client certificate");
            }
            await host.StopAsync();
        }
    }

    public void Dispose() => _pki.Dispose();
}
