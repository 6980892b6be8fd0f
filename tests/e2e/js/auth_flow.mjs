// The official JavaScript SDK (@io-orkes/conductor-javascript, pinned in package.json), unchanged,
// against a server with authentication on. Driven by tests/e2e/test_js_sdk.py.
//
// The SDK reads its server and key from the environment: CONDUCTOR_SERVER_URL,
// CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET (they win over any explicit config), so each
// role runs as its own process with its own key:
//
//   node auth_flow.mjs operator --workflow W --task-type T --name Ada
//       registers the task definition and the workflow, starts it, and waits until it ends
//   node auth_flow.mjs worker --task-type T --worker-id ID
//       polls T with a TaskManager, completes the first task it gets, then stops
//
// Either way the last line of stdout is one JSON object: {"ok": true, ...} and exit code 0, or
// {"ok": false, "error": "..."} and a non-zero exit code (2 when --deadline-s ran out, 3 on
// SIGTERM). The SDK's logs go to stderr.

import { parseArgs } from "node:util";

import {
  OrkesClients,
  TaskManager,
  simpleTask,
  taskDefinition,
  workflow,
} from "@io-orkes/conductor-javascript";

const TERMINAL = new Set(["COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"]);
const WORKFLOW_POLL_MS = 100;

const stderrLogger = {
  debug: () => {},
  info: (...args) => console.error("INFO", ...args),
  warn: (...args) => console.error("WARN", ...args),
  error: (...args) => console.error("ERROR", ...args),
};

let finished = false;
// What the role saw last (a workflow's status, a poll's error), reported if it is cut short.
let lastSeen = null;

function finish(code, result) {
  if (finished) return;
  finished = true;
  // process.exit would cut a pending write to a pipe short: exit once it is flushed.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(code));
}

function errorText(error) {
  return error instanceof Error ? error.message : (JSON.stringify(error) ?? String(error));
}

async function operator({ workflow: name, "task-type": taskType, name: person }) {
  const clients = await OrkesClients.from({ logger: stderrLogger });
  await clients.getMetadataClient().registerTask(
    taskDefinition({
      name: taskType,
      retryCount: 0,
      timeoutSeconds: 60,
      responseTimeoutSeconds: 30,
    }),
  );
  const definition = {
    ...workflow(name, [
      simpleTask("greet_ref", taskType, { name: "${workflow.input.name}" }),
    ]),
    outputParameters: {
      greeting: "${greet_ref.output.greeting}",
      greetedBy: "${greet_ref.output.greetedBy}",
    },
  };
  const executor = clients.getWorkflowClient();
  await executor.registerWorkflow(true, definition);
  const workflowId = await executor.startWorkflow({ name, version: 1, input: { name: person } });
  let run = await executor.getWorkflow(workflowId, true);
  while (!TERMINAL.has(run.status)) {
    lastSeen = `workflow ${workflowId} ${run.status}`;
    await new Promise((resolve) => setTimeout(resolve, WORKFLOW_POLL_MS));
    run = await executor.getWorkflow(workflowId, true);
  }
  return {
    ok: run.status === "COMPLETED",
    workflowId,
    status: run.status,
    output: run.output,
    reasonForIncompletion: run.reasonForIncompletion ?? null,
    tasks: (run.tasks ?? []).map((task) => ({
      ref: task.referenceTaskName,
      taskType: task.taskType,
      status: task.status,
      workerId: task.workerId ?? null,
    })),
  };
}

async function worker({ "task-type": taskType, "worker-id": workerId }) {
  const clients = await OrkesClients.from({ logger: stderrLogger });
  return await new Promise((resolve, reject) => {
    const greeter = {
      taskDefName: taskType,
      execute: async (task) => ({
        status: "COMPLETED",
        outputData: { greeting: `Hello, ${task.inputData?.name}!`, greetedBy: workerId },
      }),
    };
    const manager = new TaskManager(clients.getClient(), [greeter], {
      logger: stderrLogger,
      options: { workerID: workerId, pollInterval: 100, concurrency: 1 },
      eventListeners: [
        {
          onPollFailure: (event) => {
            lastSeen = `poll error ${errorText(event.cause)}`;
          },
          onTaskUpdateCompleted: (event) => {
            manager.stopPolling().then(
              () =>
                resolve({
                  ok: true,
                  taskId: event.taskId,
                  workflowId: event.workflowInstanceId,
                  workerId: event.workerId,
                }),
              reject,
            );
          },
          onTaskUpdateFailure: (event) => {
            reject(new Error(`task update failed: ${errorText(event.cause)}`));
          },
        },
      ],
    });
    manager.startPolling();
  });
}

const ROLES = { operator, worker };

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    workflow: { type: "string" },
    "task-type": { type: "string" },
    name: { type: "string", default: "world" },
    "worker-id": { type: "string", default: "js-sdk-e2e-worker" },
    "deadline-s": { type: "string", default: "60" },
  },
});
const role = positionals[0];
if (!(role in ROLES) || !values["task-type"] || (role === "operator" && !values.workflow)) {
  console.error(
    "usage: node auth_flow.mjs operator --workflow W --task-type T [--name N] [--deadline-s S]\n" +
      "       node auth_flow.mjs worker --task-type T [--worker-id ID] [--deadline-s S]",
  );
  process.exit(64);
}

function cutShort(code, why) {
  const seen = lastSeen ? ` (last seen: ${lastSeen})` : "";
  finish(code, { ok: false, role, error: `${why}${seen}` });
}

const deadlineS = Number(values["deadline-s"]);
setTimeout(() => cutShort(2, `deadline of ${deadlineS} s passed`), deadlineS * 1000);
process.on("SIGTERM", () => cutShort(3, "stopped by SIGTERM"));

ROLES[role](values).then(
  (result) => finish(result.ok ? 0 : 1, { role, ...result }),
  (error) => finish(1, { ok: false, role, error: errorText(error) }),
);
