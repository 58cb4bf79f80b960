// Nestogy workspace: live countdowns (no inline script: the CSP allows only the static
// files and htmx). Keyboard shortcuts: keys.js.
(function () {
  "use strict";

  function human(seconds) {
    seconds = Math.abs(Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600),
        m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = String(m).padStart(2, "0") + "m", ss = String(s).padStart(2, "0") + "s";
    if (d) return d + "d " + h + "h " + mm + " " + ss;
    if (h) return h + "h " + mm + " " + ss;
    if (m) return m + "m " + ss;
    return s + "s";
  }

  // Each countdown ticks down to its due moment in wall-clock time ("due in"); the server
  // renders the business time left next to it and re-renders the queue every 15 s.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      el.textContent = left >= 0 ? "due in " + human(left) : "overdue " + human(left);
      if (left < 0) {
        el.classList.remove("tone-ok", "tone-warn");
        el.classList.add("tone-late");
        var clock = el.closest(".clock");
        if (clock) { clock.classList.remove("tone-ok", "tone-warn"); clock.classList.add("tone-late"); }
      }
    });
  }

  // Keyboard shortcuts live in keys.js. After htmx re-renders the queue, tick again.
  document.addEventListener("htmx:afterSwap", tick);

  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
