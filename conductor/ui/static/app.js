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
