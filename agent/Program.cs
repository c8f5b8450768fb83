using EdgePatchCore.Agent.ModelStore;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddJsonFile("/etc/edgepatchcore/agent.json", optional: true, reloadOnChange: false);
builder.Configuration.AddEnvironmentVariables("EDGEPATCHCORE__");
builder.Configuration.AddCommandLine(args);
builder.Services.AddSystemd();
builder.Services.Configure<AgentOptions>(builder.Configuration.GetSection(AgentOptions.Section));
builder.Services.AddHostedService<ModelLoader>();
builder.Build().Run();
