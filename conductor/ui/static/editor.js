// The definition editors: review a change as a diff, save it with a REST API call, show the API's
// validation errors at their lines, delete after a confirmation. The page says which calls
// (form[data-editor], written by conductor/ui/editor_pages.py).
"use strict";

(() => {
  const form = document.querySelector("form[data-editor]");
  if (!form) return;
  const config = JSON.parse(form.dataset.editor);
  const textarea = form.querySelector("textarea");
  const problems = form.querySelector(".problems");
  const diffView = document.querySelector(".diff-view");
  const asNew = form.querySelector("input[name=asNewVersion]");
  // Select a span of the textarea and scroll its first line into view.
  function point(start, end) {
    textarea.focus();
    textarea.setSelectionRange(start, end);
    const { line } = JsonText.lineColumn(textarea.value, start);
    const height = parseFloat(getComputedStyle(textarea).lineHeight) || 16;
    textarea.scrollTop = Math.max(0, (line - 1) * height - textarea.clientHeight / 3);
  }

  function clearProblems() {
    problems.hidden = true;
    problems.querySelector(".message").textContent = "";
    problems.querySelector("ul").replaceChildren();
  }

  // The message, then one entry per field error: its path, where it is, and the server's words.
  function showProblems(message, fieldErrors = [], root = "") {
    problems.querySelector(".message").textContent = message;
    const entries = fieldErrors.map((error) => {
      const item = document.createElement("li");
      const path = String(error.path ?? "");
      const code = document.createElement("code");
      code.textContent = path;
      let where = null;
      try {
        where = JsonText.locate(textarea.value, path, root);
      } catch (_) {
        // the text changed since it was sent and no longer parses: no line to point at
      }
      if (where) {
        const jump = document.createElement("a");
        jump.href = "#definition";
        jump.className = "jump";
        jump.append(code, ` (line ${JsonText.lineColumn(textarea.value, where.start).line})`);
        jump.addEventListener("click", (event) => {
          event.preventDefault();
          point(where.start, where.end);
        });
        item.append(jump);
      } else {
        item.append(code);
      }
      item.append(`: ${error.message ?? ""}`);
      if (error.invalidValue !== undefined && error.invalidValue !== null) {
        item.append(` (was ${JSON.stringify(error.invalidValue)})`);
      }
      item.dataset.path = path;
      return { item, where };
    });
    problems.querySelector("ul").replaceChildren(...entries.map((e) => e.item));
    problems.hidden = false;
    const first = entries.find((e) => e.where);
    if (first) point(first.where.start, first.where.end);
  }

  async function showResponse(response, root) {
    let body = {};
    try {
      body = await response.json();
    } catch (_) {
      // not JSON: the status line says enough
    }
    const message = body.message || `${response.status} ${response.statusText}`;
    showProblems(message, body.validationErrors || [], root);
  }

  // The edited definition as it would be saved, or null once a syntax error is shown.
  function edited() {
    try {
      JsonText.parse(textarea.value);
    } catch (error) {
      if (!(error instanceof JsonText.SyntaxProblem)) throw error;
      showProblems(`The JSON has a syntax error at ${error.message}`);
      point(error.offset, Math.min(error.offset + 1, textarea.value.length));
      return null;
    }
    const definition = JSON.parse(textarea.value);
    if (asNew?.checked && definition && typeof definition === "object") {
      definition.version = config.nextVersion;
    }
    return definition;
  }

  const fill = (template, definition) =>
    template
      .replace("{name}", encodeURIComponent(String(definition?.name ?? "")))
      .replace("{version}", encodeURIComponent(String(definition?.version ?? "")));

  async function review() {
    clearProblems();
    const definition = edited();
    if (definition === null) return;
    const response = await fetch("/edit/diff", {
      method: "POST",
      headers: apiHeaders(true),
      body: JSON.stringify({
        kind: config.kind,
        name: config.name,
        version: config.version,
        after: definition,
      }),
    });
    if (!response.ok) {
      await showResponse(response, "");
      return;
    }
    // A fragment rendered by the server's template, every text in it escaped there.
    diffView.innerHTML = await response.text();
    diffView.hidden = false;
    diffView.scrollIntoView({ block: "nearest" });
  }

  async function save() {
    clearProblems();
    const definition = edited();
    if (definition === null) return;
    const call = config.name === null || asNew?.checked ? config.create : config.update;
    const response = await fetch(call.path, {
      method: call.method,
      headers: apiHeaders(true),
      body: JSON.stringify(call.asList ? [definition] : definition),
    });
    if (response.ok) {
      window.location.assign(fill(config.viewPath, definition));
      return;
    }
    await showResponse(response, call.errorRoot);
  }

  async function remove() {
    clearProblems();
    if (!window.confirm(config.deleteQuestion)) return;
    const response = await fetch(config.deletePath, { method: "DELETE", headers: apiHeaders(false) });
    if (response.ok) {
      window.location.assign(config.afterDelete);
      return;
    }
    await showResponse(response, "");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  form.querySelector("[data-review]").addEventListener("click", review);
  form.querySelector("[data-delete]")?.addEventListener("click", remove);
})();
