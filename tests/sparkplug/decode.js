// Decodes Sparkplug B payloads with the Eclipse Tahu reference decoder (npm sparkplug-payload), for the
// agent's interop test (tests/EdgePatchCore.Tests/Agent/SparkplugTests.cs).
// Input on stdin: one message per line, "TOPIC<TAB>BASE64 PAYLOAD". Output: one JSON object per line,
// {"topic", "payload"} with 64-bit integers as numbers and bytes as {"bytes": length}; or {"topic", "error"}.
"use strict";
const readline = require("readline");
const sparkplug = require("sparkplug-payload").get("spBv1.0");

function plain(value) {
  if (value === null || value === undefined) return value;
  if (typeof value.toNumber === "function" && "low" in value && "high" in value) return value.toNumber(); // Long
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { bytes: value.length };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", line => {
  const tab = line.indexOf("\t");
  if (tab < 0) return;
  const topic = line.slice(0, tab);
  try {
    const payload = sparkplug.decodePayload(Buffer.from(line.slice(tab + 1), "base64"));
    process.stdout.write(JSON.stringify({ topic, payload: plain(payload) }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ topic, error: String(e) }) + "\n");
  }
});
