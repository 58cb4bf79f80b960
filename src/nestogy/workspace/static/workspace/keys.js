// Nestogy workspace keyboard shortcuts (listed in the "?" dialog of base.html).
//   queue:  j / k select the next / previous ticket, Enter opens it
//   ticket: r writes a reply, n an internal note, a assigns the ticket to me
//           (through the page's "Assign to me" form, present only when the role may assign),
//           Ctrl+Enter in the message sends it in the chosen mode
//   anywhere: ? lists the shortcuts, Escape closes the list
// Single keys are ignored while typing in a field.
(function () {
  "use strict";

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

  var MODES = {
    reply: { label: "Writing a reply to the client", hint: "Reply to the client" },
    note: { label: "Writing an internal note (staff only, the client does not see it)",
            hint: "Internal note (the client does not see it)" }
  };

  function composer() { return document.getElementById("composer"); }
  function message() { var f = composer(); return f ? f.querySelector("textarea[name=body]") : null; }

  function setMode(kind) {
    var form = composer(), body = message();
    if (!form || !body) return false;
    form.setAttribute("data-kind", kind);
    form.classList.toggle("mode-note", kind === "note");
    var label = document.getElementById("composer-mode");
    if (label) label.textContent = MODES[kind].label;
    body.setAttribute("placeholder", MODES[kind].hint);
    body.focus();
    return true;
  }

  function sendInMode() {
    var form = composer();
    var kind = (form && form.getAttribute("data-kind")) || "reply";
    var button = form && form.querySelector("button[name=kind][value=" + kind + "]");
    if (button) button.click();
  }

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) {
      // The modal dialog closes itself on Escape; other keys belong to it.
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === message()) {
      event.preventDefault(); sendInMode(); return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    if (event.key === "?") { openShortcuts(); event.preventDefault(); return; }
    if (event.key === "j") { select(selected + 1); event.preventDefault(); return; }
    if (event.key === "k") { select(selected - 1); event.preventDefault(); return; }
    if (event.key === "Enter" && selected >= 0 && rows()[selected]) {
      // One navigation only: the focused row link would follow itself as well.
      event.preventDefault();
      window.location.href = rows()[selected].getAttribute("data-href"); return;
    }
    if (event.key === "r" || event.key === "n") {
      if (setMode(event.key === "r" ? "reply" : "note")) event.preventDefault();
      return;
    }
    if (event.key === "a") {
      var mine = document.querySelector("button[data-key='a']");
      if (mine) { event.preventDefault(); mine.click(); }
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) openShortcuts();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // The queue re-rendered: keep the selected row (htmx gives the focus back to the element
    // with the same id, so the row holding the focus is the one; rows may have moved).
    var all = rows();
    var focused = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("[data-row]") : null;
    if (focused && all.indexOf(focused) >= 0) selected = all.indexOf(focused);
    if (selected >= all.length) selected = all.length - 1;
    if (selected >= 0 && all[selected]) all[selected].setAttribute("aria-selected", "true");
    // A canned response was inserted: back to the message, at its end, in the same mode.
    var body = message();
    if (body && event.target && event.target.id === "composer-message") {
      var kind = composer().getAttribute("data-kind");
      if (kind) body.setAttribute("placeholder", MODES[kind].hint);
      body.focus();
      body.setSelectionRange(body.value.length, body.value.length);
    }
  });
})();
