// The run form: starts a workflow with POST /api/workflow, then opens its execution. The runs a
// user started are remembered in this browser's localStorage, newest first.
"use strict";

(() => {
  const form = document.getElementById("run-form");
  if (!form) return;
  const RECENT = "conductor.recentRuns";
  const KEEP = 20;
  const problems = form.querySelector(".problems");
  const select = form.elements.name;
  const input = form.elements.input;

  function recentRuns() {
    try {
      const runs = JSON.parse(localStorage.getItem(RECENT) || "[]");
      return Array.isArray(runs) ? runs : [];
    } catch (_) {
      return [];
    }
  }

  function remember(run) {
    const runs = [run, ...recentRuns().filter((r) => r.id !== run.id)].slice(0, KEEP);
    localStorage.setItem(RECENT, JSON.stringify(runs));
  }

  function listRecent() {
    const list = document.getElementById("recent-runs");
    const items = recentRuns().map((run) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/execution/${encodeURIComponent(String(run.id))}`;
      link.textContent = `${run.name} ${run.id}`;
      const when = document.createElement("time");
      const moment = new Date(run.time);
      when.dateTime = moment.toISOString();
      when.textContent = moment.toLocaleString();
      item.append(link, " ", when);
      return item;
    });
    if (items.length === 0) items.push(Object.assign(document.createElement("li"), {
      className: "hint",
      textContent: "None yet.",
    }));
    list.replaceChildren(...items);
  }

  // A new workflow's declared inputs replace the input, unless the user has typed their own.
  let prefilled = input.value;
  select.addEventListener("change", () => {
    if (input.value.trim() !== "" && input.value !== prefilled && input.value.trim() !== "{}") return;
    const option = select.selectedOptions[0];
    const names = option?.dataset.inputs ? JSON.parse(option.dataset.inputs) : [];
    const template = Object.fromEntries(names.map((name) => [name, ""]));
    prefilled = names.length ? JSON.stringify(template, null, 2) : "{}";
    input.value = prefilled;
  });

  function show(message, fieldErrors = []) {
    problems.querySelector(".message").textContent = message;
    problems.querySelector("ul").replaceChildren(
      ...fieldErrors.map((error) => {
        const item = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = String(error.path ?? "");
        item.append(code, `: ${error.message ?? ""}`);
        return item;
      }),
    );
    problems.hidden = false;
  }

  // A JSON field's value; a syntax error is shown with its line and column, and answers undefined.
  function json(field, label, empty) {
    if (field.value.trim() === "") return empty;
    try {
      JsonText.parse(field.value);
    } catch (error) {
      if (!(error instanceof JsonText.SyntaxProblem)) throw error;
      show(`${label} has a JSON syntax error at ${error.message}`);
      field.focus();
      field.setSelectionRange(error.offset, error.offset + 1);
      return undefined;
    }
    return JSON.parse(field.value);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problems.hidden = true;
    const workflowInput = json(input, "The input", {});
    if (workflowInput === undefined) return;
    const taskToDomain = json(form.elements.taskToDomain, "Task to domain", null);
    if (taskToDomain === undefined) return;
    const fields = form.elements;
    const body = { name: select.value, input: workflowInput };
    if (fields.version.value) body.version = Number(fields.version.value);
    if (fields.correlationId.value) body.correlationId = fields.correlationId.value;
    if (fields.idempotencyKey.value) {
      body.idempotencyKey = fields.idempotencyKey.value;
      body.idempotencyStrategy = fields.idempotencyStrategy.value;
    }
    if (taskToDomain !== null) body.taskToDomain = taskToDomain;
    const response = await fetch("/api/workflow", {
      method: "POST",
      headers: apiHeaders(true),
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      let answer = {};
      try {
        answer = await response.json();
      } catch (_) {
        // not JSON: the status line says enough
      }
      show(answer.message || `${response.status} ${response.statusText}`, answer.validationErrors);
      return;
    }
    const workflowId = await response.text();
    remember({ id: workflowId, name: body.name, time: Date.now() });
    window.location.assign(`/execution/${encodeURIComponent(workflowId)}`);
  });

  listRecent();
})();
