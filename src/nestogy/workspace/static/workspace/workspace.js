// Nestogy workspace: live countdowns and keyboard shortcuts (no inline script: the CSP
// allows only this file and htmx).
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

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }
  var selected = -1;

  function select(index) {
    var all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.setAttribute("aria-selected", i === selected ? "true" : "false"); });
    var link = all[selected].querySelector("a");
    if (link) link.focus();
  }

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "?") { if (dialog) dialog.showModal(); event.preventDefault(); return; }
    if (event.key === "j") { select(selected + 1); event.preventDefault(); return; }
    if (event.key === "k") { select(selected - 1); event.preventDefault(); return; }
    if (event.key === "Enter" && selected >= 0 && rows()[selected]) {
      // One navigation only: the focused row link would follow itself as well.
      event.preventDefault();
      window.location.href = rows()[selected].getAttribute("data-href"); return;
    }
    var body = document.querySelector(".composer textarea");
    if ((event.key === "r" || event.key === "n") && body) {
      body.focus(); body.setAttribute("data-kind", event.key === "r" ? "reply" : "note");
      var hint = event.key === "r" ? "Reply to the client" : "Internal note (the client does not see it)";
      body.setAttribute("placeholder", hint); event.preventDefault(); return;
    }
    if (event.key === "a") {
      var mine = document.querySelector("button[data-key='a']");
      if (mine) { mine.click(); event.preventDefault(); }
    }
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-shortcuts-open]");
    if (opener) { var d = document.getElementById("shortcuts"); if (d) d.showModal(); }
  });

  // After htmx re-renders the queue, keep the selected row (htmx gives the focus back to
  // the element with the same id, so the row holding the focus is the one) and re-tick.
  document.addEventListener("htmx:afterSwap", function () {
    var all = rows();
    var focused = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("[data-row]") : null;
    if (focused && all.indexOf(focused) >= 0) selected = all.indexOf(focused);
    if (selected >= all.length) selected = all.length - 1;
    if (selected >= 0 && all[selected]) all[selected].setAttribute("aria-selected", "true");
    tick();
  });

  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
