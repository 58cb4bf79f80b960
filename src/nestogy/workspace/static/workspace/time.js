// Nestogy workspace: time on tickets. Running timers tick ([data-elapsed] holds the seconds
// elapsed when the server rendered the page, so the client's clock cannot skew them), and
// choosing a work type sets the form's Billable box to that type's default.
(function () {
  "use strict";

  var loaded = Date.now();

  function face(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    var passed = (Date.now() - loaded) / 1000;
    document.querySelectorAll("[data-elapsed]").forEach(function (el) {
      var base = parseInt(el.getAttribute("data-elapsed"), 10);
      if (!isNaN(base)) el.textContent = face(base + passed);
    });
  }

  function billableDefaults() {
    var data = document.getElementById("work-type-billable");
    if (!data) return {};
    try { return JSON.parse(data.textContent) || {}; } catch (e) { return {}; }
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-work-type]")) return;
    var defaults = billableDefaults();
    if (!(select.value in defaults)) return;
    var box = select.form && select.form.querySelector("input[type=checkbox][name$='billable']");
    if (box) box.checked = !!defaults[select.value];
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[data-elapsed]")) return;
    tick();
    setInterval(tick, 1000);
  });
})();
