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

// Action buttons are REST API calls, made here with the session's CSRF token: the UI has no
// back door of its own. Each asks for confirmation first; the page reloads on success.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  if (!window.confirm(form.dataset.confirm)) return;
  const url = new URL(form.dataset.api, window.location.origin);
  for (const [name, value] of new FormData(form)) if (value) url.searchParams.set(name, value);
  const token = document.querySelector("meta[name=csrf-token]").content;
  const response = await fetch(url, { method: form.dataset.method, headers: { "X-CSRF-Token": token } });
  if (response.ok) {
    window.location.reload();
    return;
  }
  const problem = form.parentElement.querySelector("[role=alert]");
  let message = `${response.status} ${response.statusText}`;
  try {
    message = (await response.json()).message || message;
  } catch (_) {
    // not JSON: keep the status line
  }
  problem.textContent = message;
  problem.hidden = false;
});
