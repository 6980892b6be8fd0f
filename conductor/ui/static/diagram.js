// Zoom and pan for the SVG diagrams. The server draws each diagram at its natural size; zooming
// scales the SVG's width and height (its viewBox keeps the drawing), and the frame scrolls, so
// panning is scrolling: by dragging, the scroll bars or the keyboard.
"use strict";

const ZOOM_STEP = 1.25;
const ZOOM_MIN = 0.1;
const ZOOM_MAX = 4;

function zoomKey() {
  return `conductor.zoom:${window.location.pathname}`;
}

function naturalSize(svg) {
  if (!svg.dataset.width) {
    svg.dataset.width = svg.getAttribute("width");
    svg.dataset.height = svg.getAttribute("height");
  }
  return [Number(svg.dataset.width), Number(svg.dataset.height)];
}

function applyZoom(frame, scale) {
  const svg = frame.querySelector("svg.cd-diagram");
  if (!svg) return;
  const [width, height] = naturalSize(svg);
  const bounded = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, scale));
  svg.setAttribute("width", String(Math.round(width * bounded)));
  svg.setAttribute("height", String(Math.round(height * bounded)));
  frame.dataset.scale = String(bounded);
  // Kept for this page, so that a live update (which redraws the diagram) keeps the zoom.
  window.sessionStorage.setItem(zoomKey(), String(bounded));
}

function fitScale(frame) {
  const svg = frame.querySelector("svg.cd-diagram");
  if (!svg) return 1;
  const [width, height] = naturalSize(svg);
  const room = Math.min(frame.clientWidth / width, (window.innerHeight * 0.75) / height);
  return Math.min(1, room);
}

function restoreZoom(root) {
  const saved = Number(window.sessionStorage.getItem(zoomKey()));
  for (const frame of root.querySelectorAll("section.diagram")) {
    if (saved > 0) applyZoom(frame, saved);
  }
}

document.addEventListener("DOMContentLoaded", () => restoreZoom(document));
document.addEventListener("htmx:afterSwap", (event) => restoreZoom(event.target));

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-zoom]");
  if (!button) return;
  const frame = button.parentElement.nextElementSibling;
  if (!frame || !frame.matches("section.diagram")) return;
  const scale = Number(frame.dataset.scale || "1");
  const next = {
    in: scale * ZOOM_STEP,
    out: scale / ZOOM_STEP,
    reset: 1,
    fit: fitScale(frame),
  }[button.dataset.zoom];
  applyZoom(frame, next);
});

// Ctrl (or ⌘) and the wheel zoom, as in map and drawing tools; the wheel alone scrolls.
document.addEventListener(
  "wheel",
  (event) => {
    const frame = event.target.closest("section.diagram");
    if (!frame || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    const scale = Number(frame.dataset.scale || "1");
    applyZoom(frame, event.deltaY < 0 ? scale * ZOOM_STEP : scale / ZOOM_STEP);
  },
  { passive: false },
);

// Drag the background to pan; a drag that starts on a link still follows the link on a click.
let drag = null;
document.addEventListener("pointerdown", (event) => {
  const frame = event.target.closest("section.diagram");
  if (!frame || event.button !== 0 || event.target.closest("a")) return;
  drag = { frame, x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop };
  frame.classList.add("panning");
});
document.addEventListener("pointermove", (event) => {
  if (!drag) return;
  drag.frame.scrollLeft = drag.left - (event.clientX - drag.x);
  drag.frame.scrollTop = drag.top - (event.clientY - drag.y);
});
document.addEventListener("pointerup", () => {
  if (drag) drag.frame.classList.remove("panning");
  drag = null;
});
