using EdgePatchCore.Agent;

return await AgentProgram.RunAsync(args);
