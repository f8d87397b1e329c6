// Behaviour our CSP allows no inline script for: confirmations, the language menu submitting on change, SortableJS
// lists posting their new order through htmx (as htmx's own sortable example does), forms that take effect only
// when saved saying so while they hold unsaved changes, and the mapping editor pairing fields by drag and drop.
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

  // --- Reordering: a <form class="sortable"> of hidden inputs posts its new order on Sortable's "end" ---------

  function initSortables(root) {
    if (typeof Sortable === "undefined") { return; }
    root.querySelectorAll(".sortable").forEach(function (list) {
      if (list.dataset.sortableReady) { return; }
      list.dataset.sortableReady = "1";
      Sortable.create(list, {
        animation: 150,
        handle: list.dataset.handle || null,
        draggable: list.dataset.draggable || undefined,
        forceFallback: true,  // pointer events rather than HTML5 drag and drop: the same with touch and mouse
        ghostClass: "sortable-ghost",
        filter: ".htmx-indicator",
        // SortableJS dispatches its own "end" DOM event on the list: hx-trigger="end" posts the new order.
        onMove: function (evt) { return !evt.related.classList.contains("htmx-indicator"); }
      });
    });
  }

  // --- Unsaved changes: <form data-track-changes> shows its [data-unsaved-notice] once it differs ------------

  var initialValues = new WeakMap();
  var submitting = false;

  function serialise(form) { return new URLSearchParams(new FormData(form)).toString(); }

  function refreshDirty(form) {
    var dirty = form.dataset.dirty === "true" || serialise(form) !== initialValues.get(form);
    form.classList.toggle("is-dirty", dirty);
    form.querySelectorAll("[data-unsaved-notice]").forEach(function (notice) { notice.hidden = !dirty; });
  }

  function initTracking(root) {
    var forms = root.matches && root.matches("form[data-track-changes]") ? [root] : [];
    root.querySelectorAll("form[data-track-changes]").forEach(function (form) { forms.push(form); });
    forms.forEach(function (form) {
      initialValues.set(form, serialise(form));
      refreshDirty(form);
    });
  }

  function onEdit(event) {
    var target = event.target;
    var form = target.closest && target.closest("form[data-track-changes]");
    if (!form) { return; }
    // A module switched off dims its row; Allow sync off dims every Xero -> Zoho row.
    if (target.type === "checkbox" && /-enabled$/.test(target.name)) {
      var row = target.closest("[data-module-row]");
      if (row) { row.classList.toggle("module-off", !target.checked); }
    }
    if (target.name === "allow_xero_to_zoho") {
      var master = target.closest(".master-switch");
      if (master) { master.classList.toggle("is-off", !target.checked); }
      form.querySelectorAll("[data-dims-when-off]").forEach(function (section) {
        section.classList.toggle("all-off", !target.checked);
      });
    }
    refreshDirty(form);
  }
  document.addEventListener("input", onEdit);
  document.addEventListener("change", onEdit);
  // A form that really leaves the page (not one htmx took over) is saving, not losing, the changes.
  document.addEventListener("submit", function (event) { if (!event.defaultPrevented) { submitting = true; } });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && document.querySelector("form[data-track-changes].is-dirty")) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // --- Mapping editor: drop a field of one side onto a field of the other to add the pair ----------------------
  // The drop only fills in and submits the keyboard's "Add pair" form; the server decides.

  var dropTarget = null;

  function pointOf(event) {
    if (!event) { return null; }
    var touch = event.changedTouches && event.changedTouches[0];
    var source = touch || event;
    return typeof source.clientX === "number" ? { x: source.clientX, y: source.clientY } : null;
  }

  function fieldUnder(point, side) {
    if (!point) { return null; }
    var element = document.elementFromPoint(point.x, point.y);
    var chip = element && element.closest("ul[data-drag-side] [data-field]");
    if (!chip || chip.closest("ul[data-drag-side]").dataset.dragSide === side) { return null; }
    return chip;
  }

  function highlight(chip) {
    if (dropTarget === chip) { return; }
    if (dropTarget) { dropTarget.classList.remove("drop-target"); }
    dropTarget = chip;
    if (chip) { chip.classList.add("drop-target"); }
  }

  function initFieldDrag(root) {
    if (typeof Sortable === "undefined") { return; }
    root.querySelectorAll("ul[data-drag-side]").forEach(function (list) {
      if (list.dataset.dragReady) { return; }
      list.dataset.dragReady = "1";
      var side = list.dataset.dragSide;
      var track = function (event) { highlight(fieldUnder(pointOf(event), side)); };
      Sortable.create(list, {
        group: { name: "fields-" + side, pull: "clone", put: false },
        sort: false,
        forceFallback: true,  // pointer events: the drop point is known, and it works the same everywhere
        fallbackOnBody: true,
        ghostClass: "field-ghost",
        dragClass: "field-dragging",
        onStart: function () {
          document.addEventListener("pointermove", track);
          document.addEventListener("touchmove", track);
        },
        onEnd: function (evt) {
          document.removeEventListener("pointermove", track);
          document.removeEventListener("touchmove", track);
          var chip = fieldUnder(pointOf(evt.originalEvent), side) || dropTarget;
          highlight(null);
          var form = document.getElementById("add-pair");
          if (!chip || !form) { return; }
          var dragged = evt.item.dataset.field;
          form.elements.zoho.value = side === "zoho" ? dragged : chip.dataset.field;
          form.elements.xero.value = side === "zoho" ? chip.dataset.field : dragged;
          form.requestSubmit();
        }
      });
    });
  }

  function init(root) {
    initSortables(root);
    initFieldDrag(root);
    initTracking(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof htmx !== "undefined") {
      htmx.onLoad(init);
    } else {
      init(document);
    }
  });
})();
