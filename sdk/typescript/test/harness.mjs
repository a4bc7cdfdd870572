// Starts a real `hyperspace node` for the tests: free ports, a temp data dir, waits for
// /readyz, and stops it (SIGTERM, then SIGKILL) at the end.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");

/** HYPERSPACE_BIN, else the workspace's target/debug/hyperspace (CARGO_TARGET_DIR honoured). */
export function binaryPath() {
  if (process.env.HYPERSPACE_BIN) return resolve(process.env.HYPERSPACE_BIN);
  const target = process.env.CARGO_TARGET_DIR ? resolve(repoRoot, process.env.CARGO_TARGET_DIR) : join(repoRoot, "target");
  return join(target, "debug", "hyperspace");
}

async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {{apiKey?: string}} options
 * @returns {Promise<{url: string, stop: () => Promise<void>, log: () => string}>}
 */
export async function startNode(options = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(
      `hyperspace binary not found at ${bin}. Build it first with \`cargo build\` in the repository root ` +
        `(${repoRoot}), or point HYPERSPACE_BIN at a built binary.`,
    );
  }
  const dataDir = mkdtempSync(join(tmpdir(), "hyperspace-ts-sdk-"));
  let httpPort = await freePort();
  let grpcPort = await freePort();
  while (grpcPort === httpPort) grpcPort = await freePort();
  const args = ["node", "--data-dir", dataDir, "--http-addr", `127.0.0.1:${httpPort}`, "--grpc-addr", `127.0.0.1:${grpcPort}`];
  if (options.apiKey !== undefined) args.push("--api-key", options.apiKey);

  const env = { ...process.env };
  delete env.HYPERSPACE_API_KEY; // the flag decides, not a stray variable
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  const exitPromise = new Promise((r) => child.on("exit", (code, signal) => r((exited = { code, signal }))));
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);

  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    process.off("exit", killOnExit);
    if (exited === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`hyperspace node exited early (${JSON.stringify(exited)}):\n${output}`);
    }
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`hyperspace node not ready within 30 s at ${url}:\n${output}`);
    }
    await sleep(50);
  }
  return { url, stop, log: () => output };
}
