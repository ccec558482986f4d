// Keyboard shortcuts for the moderation queue. Every action is also a button.
(function () {
  "use strict";
  var items = [];
  var current = -1;

  function focusItem(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (item, i) { item.classList.toggle("is-current", i === current); });
    items[current].focus();
    items[current].scrollIntoView({ block: "nearest" });
  }

  function within(selector) {
    return current >= 0 ? items[current].querySelector(selector) : null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    items = Array.prototype.slice.call(document.querySelectorAll("[data-queue-item]"));
    var help = document.getElementById("shortcuts-help");
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "Escape" && help && help.open) { help.open = false; return; }
      if (tag === "input" || tag === "textarea" || tag === "select") {
        if (event.key === "Escape") event.target.blur();
        return;
      }
      var key = event.key;
      if (key === "?") { if (help) help.open = !help.open; event.preventDefault(); return; }
      if (key === "j") { focusItem(current + 1); event.preventDefault(); return; }
      if (key === "k") { focusItem(current - 1); event.preventDefault(); return; }
      if (current < 0) return;
      var target = null;
      if (key === "a") target = within('[data-shortcut="a"]');
      if (key === "f") target = within('[data-shortcut="f"]');
      if (key === "r") {
        var reason = within('[data-shortcut="r"]');
        if (reason) { reason.focus(); event.preventDefault(); }
        return;
      }
      if (key === "x") {
        var box = within("[data-select]");
        if (box) { box.checked = !box.checked; event.preventDefault(); }
        return;
      }
      if (target) { target.click(); event.preventDefault(); }
    });
  });
})();
