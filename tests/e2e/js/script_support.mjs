// What the one-shot SDK scripts (signals.mjs, admin_calls.mjs) share: the SDK's logs on stderr,
// and one JSON result line on stdout: {"ok": true, "steps": {...}} with exit code 0, or
// {"ok": false, "error": "..."} with exit code 1.

import { parseArgs } from "node:util";

export const stderrLogger = {
  debug: () => {},
  info: (...args) => console.error("INFO", ...args),
  warn: (...args) => console.error("WARN", ...args),
  error: (...args) => console.error("ERROR", ...args),
};

function finish(code, result) {
  // process.exit would cut a pending write to a pipe short: exit once it is flushed.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(code));
}

// Runs main({prefix}) with the command line's --prefix and reports what it returned.
export function runSteps(main) {
  const { values } = parseArgs({ options: { prefix: { type: "string" } } });
  main(values).then(
    (steps) => finish(0, { ok: true, steps }),
    (error) =>
      finish(1, {
        ok: false,
        error: error instanceof Error ? `${error.message}\n${error.stack}` : JSON.stringify(error),
      }),
  );
}
