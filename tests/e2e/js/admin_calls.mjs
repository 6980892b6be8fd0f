// The official JavaScript SDK's event-handler and scheduler-admin calls, unchanged.
// Driven by tests/e2e/test_js_sdk_admin_calls.py, which asserts on what this prints.
//
//   node admin_calls.mjs --prefix P
//
// Registers an event handler for an SQS queue (no consumer on this server) and reads it back,
// then pauses, resumes and requeues the whole scheduler. The last line of stdout is one JSON
// object: {"ok": true, "steps": {...}}, or {"ok": false, "error": "..."} with exit code 1.

import { OrkesClients } from "@io-orkes/conductor-javascript";

import { runSteps, stderrLogger } from "./script_support.mjs";

async function main({ prefix }) {
  const clients = await OrkesClients.from({ logger: stderrLogger });
  const events = clients.getEventClient();
  const scheduler = clients.getSchedulerClient();
  const steps = {};

  const event = `sqs:${prefix}-orders`;
  await events.addEventHandler({
    name: `${prefix}_on_order`,
    event,
    active: true,
    actions: [{ action: "start_workflow", start_workflow: { name: `${prefix}_fulfil` } }],
  });
  const stored = await events.getEventHandlersForEvent(event, false);
  steps.eventHandlers = stored.map((handler) => ({
    name: handler.name,
    event: handler.event,
    active: handler.active,
  }));
  await events.removeEventHandler(`${prefix}_on_order`);
  steps.afterRemove = (await events.getEventHandlersForEvent(event, false)).length;

  await scheduler.pauseAllSchedules();
  await scheduler.resumeAllSchedules();
  await scheduler.requeueAllExecutionRecords();
  steps.scheduler = "paused, resumed, requeued";
  return steps;
}

runSteps(main);
