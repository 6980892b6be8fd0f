// JSON as text with positions: where a syntax error is (line and column), and where the value a
// validation error names sits, so that the editors can point at the line. A small strict parser:
// JSON.parse's messages differ between browsers and know nothing of paths.
"use strict";

const JsonText = (() => {
  function lineColumn(text, offset) {
    const before = text.slice(0, offset);
    return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
  }

  class SyntaxProblem extends Error {
    constructor(message, text, offset) {
      const { line, column } = lineColumn(text, offset);
      super(`line ${line}, column ${column}: ${message}`);
      Object.assign(this, { offset, line, column });
    }
  }

  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const WORDS = { true: true, false: false, null: null };

  // A tree of nodes: {start, end, keyStart?, members?: Map, items?: Array, value?}.
  function parse(text) {
    let at = 0;
    const fail = (message) => {
      throw new SyntaxProblem(message, text, at);
    };
    const space = () => {
      while (at < text.length && " \t\n\r".includes(text[at])) at++;
    };
    const token = (pattern, what) => {
      pattern.lastIndex = at;
      const found = pattern.exec(text);
      if (!found) fail(`expected ${what}`);
      at += found[0].length;
      return found[0];
    };
    const expect = (char, what) => {
      space();
      if (text[at] !== char) fail(at < text.length ? `expected ${what}` : "unexpected end");
      at++;
    };

    function any() {
      space();
      const start = at;
      const char = text[at];
      let node;
      if (char === "{") node = object();
      else if (char === "[") node = array();
      else if (char === '"') node = { value: JSON.parse(token(STRING, "a string")) };
      else if (char === "-" || (char >= "0" && char <= "9")) {
        node = { value: Number(token(NUMBER, "a number")) };
      } else {
        const word = Object.keys(WORDS).find((w) => text.startsWith(w, at));
        if (word === undefined) fail(char === undefined ? "unexpected end" : `unexpected ${char}`);
        at += word.length;
        node = { value: WORDS[word] };
      }
      node.start = start;
      node.end = at;
      return node;
    }

    function object() {
      at++;
      const members = new Map();
      space();
      if (text[at] === "}") {
        at++;
        return { members };
      }
      for (;;) {
        space();
        const keyStart = at;
        if (text[at] !== '"') fail("expected a key in double quotes");
        const key = JSON.parse(token(STRING, "a key"));
        expect(":", "':' after the key");
        const child = any();
        child.keyStart = keyStart;
        members.set(key, child);
        space();
        if (text[at] === "}") {
          at++;
          return { members };
        }
        expect(",", "',' or '}' after a value");
      }
    }

    function array() {
      at++;
      const items = [];
      space();
      if (text[at] === "]") {
        at++;
        return { items };
      }
      for (;;) {
        items.push(any());
        space();
        if (text[at] === "]") {
          at++;
          return { items };
        }
        expect(",", "',' or ']' after a value");
      }
    }

    const root = any();
    space();
    if (at < text.length) fail("unexpected text after the JSON value");
    return root;
  }

  // "a.tasks[charge].x" -> ["a", "tasks", "charge", "x"]
  function segments(path) {
    return Array.from(path.matchAll(/\[([^\]]*)\]|[^.[\]]+/g), (m) => m[1] ?? m[0]);
  }

  function nodes(node, into = []) {
    into.push(node);
    for (const child of node.members ? node.members.values() : node.items || []) nodes(child, into);
    return into;
  }

  // Conductor names a task in a path by its reference name (or its name), at any depth.
  function task(node, label) {
    const objects = nodes(node).filter((n) => n.members);
    const named = (key) => (n) => n.members.get(key)?.value === label;
    return objects.find(named("taskReferenceName")) || objects.find(named("name"));
  }

  // Where the value at a validation error's path is. `root` is where the server's paths start
  // ("updateTaskDef.taskDef"). Answers {start, end, found}: a missing key gives its object.
  function locate(text, path, root) {
    const tree = parse(text);
    let steps = segments(path.startsWith(root) ? path.slice(root.length) : path);
    if (!path.startsWith(root) && tree.members) {
      // Another request's root: drop leading steps until one is a key of the definition.
      const first = steps.findIndex((s) => tree.members.has(s));
      steps = first < 0 ? [] : steps.slice(first);
    }
    let node = tree;
    for (const step of steps) {
      const next =
        node.members?.get(step) ??
        (/^\d+$/.test(step) ? node.items?.[Number(step)] : undefined) ??
        (node.members || node.items ? task(node, step) : undefined);
      if (next === undefined) {
        const start = node.keyStart ?? node.start;
        return { start, end: node === tree ? start + 1 : node.end, found: false };
      }
      node = next;
    }
    const start = node.keyStart ?? node.start;
    const lineEnd = text.indexOf("\n", start);
    return { start, end: lineEnd < 0 ? text.length : lineEnd, found: true };
  }

  return { parse, locate, lineColumn, SyntaxProblem };
})();
