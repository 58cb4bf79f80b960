// Nestogy workspace, front desk: the search-as-you-type pickers of the new-ticket form.
// htmx replaces a picker's options as the user types; this file keeps the keyboard flow
// (Enter or Down in the search box moves to the list, Enter there does not submit) and
// tells the form when a new search dropped the chosen client, so the contacts and the SLA
// preview follow.
(function () {
  "use strict";

  function list(search) {
    return document.getElementById(search.getAttribute("data-picker-search"));
  }

  function choices(select) {
    return Array.prototype.filter.call(select.options, function (o) { return !o.disabled && o.value; });
  }

  function pick(select, option) {
    if (select.value === option.value) return;
    select.value = option.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("keydown", function (event) {
    var search = event.target.closest && event.target.closest("[data-picker-search]");
    if (search && (event.key === "Enter" || event.key === "ArrowDown")) {
      var select = list(search);
      if (!select) return;
      event.preventDefault();
      var found = choices(select);
      if (event.key === "Enter" && found.length === 1) { pick(select, found[0]); }
      select.focus();
      return;
    }
    var picker = event.target.closest && event.target.closest("[data-picker-list]");
    if (picker && event.key === "Enter") {
      // Enter in a list confirms the highlighted option instead of submitting the form.
      event.preventDefault();
      picker.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-picker-list")) target.setAttribute("data-before", target.value);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute("data-picker-list")) return;
    if (target.value !== target.getAttribute("data-before")) {
      target.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
