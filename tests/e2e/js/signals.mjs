// The official JavaScript SDK's signal, sync-update and return-strategy calls, unchanged.
// Driven by tests/e2e/test_js_sdk_signals.py, which asserts on what this prints.
//
//   node signals.mjs --prefix P
//
// Registers P_child (one WAIT) and P (WAIT, sub-workflow P_child, WAIT), then walks a run of P
// through with executeWorkflow, signal, signalAsync and updateTaskSync, recording what each
// answer said. The last line of stdout is one JSON object: {"ok": true, "steps": {...}}, or
// {"ok": false, "error": "..."} with exit code 1. The SDK's logs go to stderr.

import {
  Consistency,
  OrkesClients,
  ReturnStrategy,
  subWorkflowTask,
  workflow,
} from "@io-orkes/conductor-javascript";

import { runSteps, stderrLogger } from "./script_support.mjs";

// The SDK's WAIT builders all set a duration or deadline; a signal waits on a bare WAIT.
function waitForSignal(ref) {
  return { name: ref, taskReferenceName: ref, type: "WAIT", inputParameters: {} };
}

function refs(tasks) {
  return (tasks ?? []).map((task) => task.referenceTaskName);
}

async function main({ prefix }) {
  const clients = await OrkesClients.from({ logger: stderrLogger });
  const metadata = clients.getMetadataClient();
  const executor = clients.getWorkflowClient();
  const tasks = clients.getTaskClient();
  const child = `${prefix}_child`;
  await metadata.registerWorkflowDef(
    {
      ...workflow(child, [waitForSignal("child_wait")]),
      version: 1,
      // WorkflowExecutor.signal sends its output as {"taskOutput": output}, against any server.
      outputParameters: { approved: "${child_wait.output.taskOutput.approved}" },
    },
    true,
  );
  await metadata.registerWorkflowDef(
    {
      ...workflow(prefix, [
        waitForSignal("first_wait"),
        subWorkflowTask("review", child, 1),
        waitForSignal("last_wait"),
      ]),
      version: 1,
      outputParameters: { approved: "${review.output.approved}" },
    },
    true,
  );
  const steps = {};

  const started = await executor.executeWorkflow(
    { name: prefix, version: 1, input: { note: "n-1" } },
    prefix,
    1,
    `${prefix}-request`,
    "",
    10,
    Consistency.DURABLE,
    ReturnStrategy.BLOCKING_TASK,
  );
  const runId = started.getTargetWorkflowId();
  steps.execute = {
    responseType: started.getResponseType(),
    isBlockingTask: started.isBlockingTask(),
    ref: started.getBlockingTask().referenceTaskName,
    requestId: started.requestId,
  };

  const inChild = await executor.signal(
    runId,
    "COMPLETED",
    { why: "audit" },
    ReturnStrategy.BLOCKING_WORKFLOW,
  );
  steps.signalIntoChild = {
    isBlockingWorkflow: inChild.isBlockingWorkflow(),
    isChild: inChild.getWorkflowId() !== runId,
    target: inChild.getTargetWorkflowId() === runId,
    refs: refs(inChild.getWorkflow().tasks),
  };

  const last = await executor.signal(
    runId,
    "COMPLETED",
    { approved: true },
    ReturnStrategy.BLOCKING_TASK_INPUT,
  );
  steps.signalOutOfChild = {
    isBlockingTaskInput: last.isBlockingTaskInput(),
    ref: last.getBlockingTask().referenceTaskName,
  };

  const updated = await tasks.updateTaskSync(runId, "last_wait", "COMPLETED", { by: "js" });
  steps.updateTaskSync = {
    status: updated.status,
    output: updated.output,
    lastOutput: updated.tasks.at(-1).outputData,
  };

  const second = await executor.startWorkflow({ name: prefix, version: 1, input: {} });
  await executor.signalAsync(second, "COMPLETED", { quiet: true });
  const secondRun = await executor.getWorkflow(second, true);
  steps.signalAsync = {
    first: secondRun.tasks[0].status,
    output: secondRun.tasks[0].outputData,
  };
  return steps;
}

runSteps(main);
