// Runs a benchmark script again in a fresh Node process, so that each measurement has a heap of
// its own. The child prints one JSON line as its last line of output; its stderr passes through.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Spawns `node [nodeFlags] <script> [args]` and resolves with the JSON object the child printed
 * last. Rejects when the child exits with an error.
 */
export function runChild(scriptUrl, nodeFlags, args) {
  const argv = [...nodeFlags, fileURLToPath(scriptUrl), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1);
      if (code !== 0 || !last) {
        reject(new Error(`node ${argv.join(' ')} exited with ${signal ?? code}`));
        return;
      }
      resolve(JSON.parse(last));
    });
  });
}
