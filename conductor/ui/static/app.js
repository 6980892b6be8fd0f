// The status page's data, fetched from the REST API with the page's own session.
// Every value goes into the page as text, never as markup.
"use strict";

const get = (path) => fetch(path).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));

function addRow(table, cells) {
  const row = table.insertRow();
  for (const cell of cells) row.insertCell().textContent = String(cell);
}

const byId = (id) => document.getElementById(id);

get("/health")
  .then((h) => { byId("health").textContent = `healthy on ${h.database} PostgreSQL`; })
  .catch(() => { byId("health").textContent = "unhealthy"; });

if (byId("defs")) {
  get("/api/metadata/workflow").then((defs) => {
    for (const d of defs) addRow(byId("defs"), [d.name, d.version, d.tasks.length]);
  });
  get("/api/tasks/queue/all").then((queues) => {
    for (const [name, size] of Object.entries(queues)) addRow(byId("queues"), [name, size]);
  });
  byId("lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    const out = byId("wf");
    out.replaceChildren();
    const id = byId("wfid").value.trim();
    get(`/api/workflow/${encodeURIComponent(id)}`)
      .then((wf) => {
        const title = document.createElement("p");
        title.className = wf.status;
        title.textContent = `${wf.workflowName} v${wf.workflowVersion}: ${wf.status}`;
        const table = document.createElement("table");
        addRow(table, ["Seq", "Ref", "Type", "Status", "Retry"]);
        for (const t of wf.tasks) {
          addRow(table, [t.seq, t.referenceTaskName, t.taskType, t.status, t.retryCount]);
        }
        const output = document.createElement("pre");
        output.textContent = JSON.stringify(wf.output, null, 2);
        out.append(title, table, output);
      })
      .catch((status) => { out.textContent = `not found (${status})`; });
  });
}
