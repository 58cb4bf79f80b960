// Nestogy dispatch board: drag a ticket card onto a technician to assign it. The drop fills
// the card's own "Assign to" select and submits that form, so a drop does exactly what the
// keyboard / no-JS path does (same POST, same checks, same messages).
(function () {
  "use strict";

  var dragged = null;

  function techOf(target) {
    return target && target.closest ? target.closest("[data-drop-tech]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("[data-dispatch-card]") : null;
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-ticket"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".drop-over").forEach(function (el) { el.classList.remove("drop-over"); });
    dragged = null;
  });

  document.addEventListener("dragover", function (event) {
    var tech = techOf(event.target);
    if (!tech || !dragged) return;
    event.preventDefault();  // allow the drop
    event.dataTransfer.dropEffect = "move";
    tech.classList.add("drop-over");
  });

  document.addEventListener("dragleave", function (event) {
    var tech = techOf(event.target);
    if (tech && !tech.contains(event.relatedTarget)) tech.classList.remove("drop-over");
  });

  document.addEventListener("drop", function (event) {
    var tech = techOf(event.target);
    if (!tech) return;
    event.preventDefault();
    var ticketId = event.dataTransfer.getData("text/plain") || (dragged && dragged.getAttribute("data-ticket"));
    var card = ticketId && document.querySelector("[data-dispatch-card][data-ticket='" + CSS.escape(ticketId) + "']");
    if (!card) return;
    var form = card.querySelector("form[data-dispatch-form]");
    var select = form && form.querySelector("select[name='assignee']");
    if (!select) return;
    select.value = tech.getAttribute("data-drop-tech");
    if (select.value !== tech.getAttribute("data-drop-tech")) return;
    tech.classList.remove("drop-over");
    tech.classList.add("drop-busy");
    tech.setAttribute("aria-busy", "true");
    form.requestSubmit ? form.requestSubmit() : form.submit();
  });
})();
