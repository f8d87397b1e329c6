// Behaviour our CSP allows no inline script for: confirmations, the language menu submitting on change, SortableJS
// lists post their new order through htmx (as htmx's own sortable example does).
(function () {
  "use strict";

  // A destructive form asks first: <form data-confirm="Remove ...?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  document.addEventListener("change", function (event) {
    var select = event.target.closest(".language-menu select");
    if (select && select.dataset.autosubmit === "true") { select.form.requestSubmit(); }
  });

  function initSortables(root) {
    if (typeof Sortable === "undefined") { return; }
    root.querySelectorAll(".sortable").forEach(function (list) {
      if (list.dataset.sortableReady) { return; }
      list.dataset.sortableReady = "1";
      Sortable.create(list, {
        animation: 150,
        handle: list.dataset.handle || null,
        ghostClass: "sortable-ghost",
        filter: ".htmx-indicator",
        onMove: function (evt) { return !evt.related.classList.contains("htmx-indicator"); },
        onEnd: function () { list.dispatchEvent(new Event("end", { bubbles: true })); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof htmx !== "undefined") {
      htmx.onLoad(initSortables);
    } else {
      initSortables(document);
    }
  });
})();
