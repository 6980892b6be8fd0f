// Progressive touches on server-rendered pages; every value is already in the page as text.
"use strict";

// Times arrive in UTC (kept in the title, shown on hover); show them in the browser's zone.
function localTimes(root) {
  for (const node of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) node.textContent = moment.toLocaleString();
  }
}

document.addEventListener("DOMContentLoaded", () => localTimes(document));
document.addEventListener("htmx:afterSwap", (event) => localTimes(event.target));

// The headers of every REST API call the UI makes: the session's CSRF token, and
// X-Conductor-Client, which tells the audit trail that the action came from the UI.
function apiHeaders(json) {
  const headers = {
    "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content,
    "X-Conductor-Client": "ui",
  };
  if (json) headers["Content-Type"] = "application/json";
  return headers;
}

// Action buttons are REST API calls, made here with the session's CSRF token: the UI has no
// back door of its own. Each asks for confirmation first; the page reloads on success.
// A bulk action (data-bulk names the checkboxes) sends the checked ids as its JSON body and says
// how many it will touch before it does. data-body is a JSON body given by the page;
// data-body-field names a textarea whose JSON is the body; data-then is where to go on success
// instead of reloading.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  const problem = form.parentElement.querySelector("[role=alert]");
  let body;
  let question = form.dataset.confirm;
  if (form.dataset.bulk) {
    const boxes = document.querySelectorAll(`input[name="${form.dataset.bulk}"]:checked`);
    const ids = Array.from(boxes, (box) => box.value);
    if (ids.length === 0) {
      problem.textContent = "Select at least one execution first.";
      problem.hidden = false;
      return;
    }
    question = `${question} ${ids.length} execution${ids.length === 1 ? "" : "s"}?`;
    body = JSON.stringify(ids);
  } else if (form.dataset.body) {
    body = form.dataset.body;
  }
  if (form.dataset.bodyField) {
    const text = form.elements[form.dataset.bodyField].value;
    try {
      body = JSON.stringify(JSON.parse(text));
    } catch (error) {
      problem.textContent = `The JSON cannot be read: ${error.message}`;
      problem.hidden = false;
      return;
    }
  }
  if (!window.confirm(question)) return;
  const url = new URL(form.dataset.api, window.location.origin);
  for (const [name, value] of new FormData(form)) {
    if (value && name !== form.dataset.bodyField) url.searchParams.set(name, value);
  }
  const headers = apiHeaders(Boolean(body));
  const response = await fetch(url, { method: form.dataset.method, headers, body });
  if (response.ok && form.dataset.bulk) {
    const result = await response.json();
    const failures = Object.entries(result.bulkErrorResults || {});
    if (failures.length > 0) {
      problem.textContent = failures.map(([id, why]) => `${id}: ${why}`).join("; ");
      problem.hidden = false;
      return;
    }
  }
  if (response.ok) {
    // data-then: where to go when what the page shows is gone (a deleted definition).
    if (form.dataset.then) window.location.assign(form.dataset.then);
    else window.location.reload();
    return;
  }
  let message = `${response.status} ${response.statusText}`;
  try {
    message = (await response.json()).message || message;
  } catch (_) {
    // not JSON: keep the status line
  }
  problem.textContent = message;
  problem.hidden = false;
});

// A header checkbox that selects every row's checkbox of its name.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-all]");
  if (!all) return;
  for (const box of document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`)) {
    box.checked = all.checked;
  }
});

// Copy buttons: the JSON next to the button, to the clipboard; where the clipboard is not offered
// (plain HTTP away from localhost), the text is selected for Ctrl+C instead.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const block = button.parentElement.querySelector("pre.json");
  if (!block) return;
  try {
    await navigator.clipboard.writeText(block.textContent);
    button.textContent = "Copied";
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents(block);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
});
