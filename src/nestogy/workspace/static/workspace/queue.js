// Nestogy workspace queue: ticket selection for bulk actions, kept across the self-refresh
// together with the scroll position; confirmation of destructive forms. (A static file:
// the CSP allows no inline script.)
(function () {
  "use strict";

  var picked = new Set(); // ids of the checked tickets
  var scrollY = null;

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-pick]"));
  }

  function bar() { return document.querySelector("[data-bulk-bar]"); }

  function render() {
    var all = boxes();
    var shown = 0;
    all.forEach(function (box) {
      box.checked = picked.has(box.value);
      if (box.checked) shown += 1;
      var row = box.closest("[data-row]");
      if (row) row.classList.toggle("picked", box.checked);
    });
    var every = document.querySelector("[data-pick-all]");
    if (every) {
      every.checked = all.length > 0 && shown === all.length;
      every.indeterminate = shown > 0 && shown < all.length;
    }
    var b = bar();
    if (b) {
      b.hidden = picked.size === 0;
      var count = b.querySelector("[data-bulk-count]");
      if (count) count.textContent = String(picked.size);
    }
  }

  // After a refresh: keep the checked tickets that are still listed (the ones that left the
  // view cannot be acted on from here any more), re-check them, and restore the scroll.
  function restore() {
    var listed = new Set(boxes().map(function (box) { return box.value; }));
    picked.forEach(function (id) { if (!listed.has(id)) picked.delete(id); });
    render();
    if (scrollY !== null && Math.abs(window.scrollY - scrollY) > 1) window.scrollTo(0, scrollY);
    scrollY = null;
  }

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches && t.matches("input[data-pick]")) {
      if (t.checked) picked.add(t.value); else picked.delete(t.value);
      render();
    } else if (t.matches && t.matches("input[data-pick-all]")) {
      boxes().forEach(function (box) {
        if (t.checked) picked.add(box.value); else picked.delete(box.value);
      });
      render();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-bulk-clear]")) {
      picked.clear();
      render();
    }
  });

  // "x" toggles the ticket selected with j/k (the row marked aria-selected).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "x" || event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var row = document.querySelector("[data-row][aria-selected='true']");
    var box = row && row.querySelector("input[data-pick]");
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "queue-body") scrollY = window.scrollY;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "queue-body") restore();
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Boxes the browser restored (back button) count as picked.
    boxes().forEach(function (box) { if (box.checked) picked.add(box.value); });
    render();
  });
})();
