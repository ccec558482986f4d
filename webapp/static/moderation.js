// The moderation queue, enhanced: decisions, bans and bulk actions apply in place (the
// forms still post and redirect without script), focus moves to the next comment,
// the queue counts follow, and keyboard shortcuts. Every action is also a button.
(function () {
  "use strict";
  var current = -1;
  var statusRegion = null;

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-item]"));
  }

  function focusItem(index) {
    var list = items();
    if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (item, i) { item.classList.toggle("is-current", i === current); });
    list[current].focus();
    list[current].scrollIntoView({ block: "nearest" });
  }

  function within(selector) {
    var list = items();
    return current >= 0 && list[current] ? list[current].querySelector(selector) : null;
  }

  // --- what the page says -------------------------------------------------------------

  function say(message, kind) {
    if (!statusRegion) return;
    statusRegion.textContent = "";
    var line = document.createElement("p");
    line.className = "flash flash-" + kind;
    line.textContent = message;
    statusRegion.appendChild(line);
  }

  function setCounts(counts) {
    if (!counts) return;
    Object.keys(counts).forEach(function (queue) {
      var pills = document.querySelectorAll(
        '[data-queue-count="' + queue + '"], .count-pill[title="' + queue + '"]'
      );
      Array.prototype.forEach.call(pills, function (pill) { pill.textContent = String(counts[queue]); });
    });
  }

  function showError(form, message) {
    var holder = form.closest("[data-queue-item]") || form;
    var error = holder.querySelector(".queue-error");
    if (!error) {
      error = document.createElement("p");
      error.className = "queue-error";
      error.id = "error-" + Math.random().toString(36).slice(2);
      (holder.querySelector(".queue-main") || holder).appendChild(error);
    }
    error.textContent = message;
    say(message, "error");
  }

  // --- after an answer ----------------------------------------------------------------

  function afterActed(firstActed) {
    // The first comment still on the page after the one acted on, else the one before.
    var list = items();
    current = -1;
    if (!list.length) {
      var empty = document.querySelector("[data-queue-empty]");
      var bulk = document.querySelector("[data-bulk]");
      if (bulk) bulk.hidden = true;
      if (empty) {
        empty.hidden = false;
        empty.setAttribute("tabindex", "-1");
        empty.focus();
      }
      return;
    }
    var next = list.filter(function (item) { return item.dataset.order > firstActed; })[0];
    focusItem(list.indexOf(next || list[list.length - 1]));
  }

  function applyDecisions(answers) {
    answers.forEach(function (answer) {
      var item = document.getElementById("item-" + answer.id);
      if (!item) return;
      if (answer.in_queue && answer.html) {
        var holder = document.createElement("template");
        holder.innerHTML = answer.html.trim();
        var fresh = holder.content.firstElementChild;
        fresh.dataset.order = item.dataset.order;
        item.replaceWith(fresh);
      } else {
        item.remove();
      }
    });
  }

  function markBanned(authorId) {
    items().forEach(function (item) {
      if (item.dataset.authorId !== String(authorId)) return;
      var facts = item.querySelector("[data-author-facts]");
      if (facts && !/banned$/.test(facts.textContent.trim())) {
        facts.appendChild(document.createTextNode(" · "));
        var strong = document.createElement("strong");
        strong.textContent = "banned";
        facts.appendChild(strong);
      }
      var ban = item.querySelector("[data-ban]");
      if (ban) {
        var note = document.createElement("span");
        note.textContent = "Author banned.";
        ban.replaceWith(note);
      }
    });
  }

  // --- sending a form in place --------------------------------------------------------

  function send(form, submitter) {
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, name) { body.append(name, value); });
    if (submitter && submitter.name) body.append(submitter.name, submitter.value);
    var isBulk = form.hasAttribute("data-bulk");
    var acted = isBulk
      ? items().filter(function (item) { var box = item.querySelector("[data-select]"); return box && box.checked; })
      : [form.closest("[data-queue-item]")];
    if (isBulk) {
      body.delete("ids");
      acted.forEach(function (item) { body.append("ids", item.querySelector("[data-select]").value); });
    }
    var firstActed = acted.length ? Number(acted[0].dataset.order) : -1;
    var token = form.querySelector('input[name="csrf_token"]');
    var controls = form.querySelectorAll("button, input, select");
    Array.prototype.forEach.call(controls, function (control) { control.disabled = true; });
    acted.forEach(function (item) { if (item) { item.classList.add("is-busy"); item.setAttribute("aria-busy", "true"); } });

    function settle() {
      Array.prototype.forEach.call(controls, function (control) { control.disabled = false; });
      acted.forEach(function (item) { if (item) { item.classList.remove("is-busy"); item.removeAttribute("aria-busy"); } });
    }

    // form.action would be the form's "action" field (the decision), not its URL.
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": token ? token.value : ""
      },
      body: body.toString()
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // Not an answer this script knows (signed out, a stale page): let the page
        // post the form and show what the server says.
        settle();
        form.dataset.native = "1";
        if (submitter) form.requestSubmit(submitter); else form.requestSubmit();
        return null;
      }
      return response.json().then(function (data) {
        settle();
        if (!response.ok) {
          showError(form, (data.error && data.error.message) || "That did not work; please try again.");
          return;
        }
        setCounts(data.counts);
        if (data.author_id !== undefined) {
          markBanned(data.author_id);
          var banned = form.closest("[data-queue-item]");
          say(data.message, "success");
          if (banned) {
            var stillThere = items().indexOf(banned);
            if (stillThere >= 0) focusItem(stillThere + 1 < items().length ? stillThere + 1 : stillThere);
          }
          return;
        }
        applyDecisions(data.items || []);
        say(data.message, "success");
        if (isBulk) updateSelection();
        afterActed(firstActed);
      });
    }).catch(function () {
      settle();
      showError(form, "Pulse could not be reached; nothing was changed by this page. Please try again.");
    });
  }

  // --- select all ---------------------------------------------------------------------

  var selectAll = null;
  var selectedCount = null;

  function updateSelection() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-select]"));
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    if (selectAll) {
      selectAll.checked = boxes.length > 0 && checked === boxes.length;
      selectAll.indeterminate = checked > 0 && checked < boxes.length;
    }
    if (selectedCount) selectedCount.textContent = checked ? checked + " selected" : "";
  }

  function setUpSelectAll() {
    var slot = document.querySelector("[data-select-all-slot]");
    selectedCount = document.querySelector("[data-selected-count]");
    if (!slot) return;
    slot.textContent = "";
    selectAll = document.createElement("input");
    selectAll.type = "checkbox";
    selectAll.id = "select-all";
    var label = document.createElement("label");
    label.htmlFor = "select-all";
    label.textContent = "Select all on this page";
    slot.appendChild(selectAll);
    slot.appendChild(label);
    selectAll.addEventListener("change", function () {
      document.querySelectorAll("[data-select]").forEach(function (box) { box.checked = selectAll.checked; });
      updateSelection();
    });
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("[data-select]")) updateSelection();
    });
    updateSelection();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("main");
    statusRegion = main ? main.querySelector(".flashes[role=status]") : null;
    if (!statusRegion && main && document.querySelector("[data-queue]")) {
      statusRegion = document.createElement("div");
      statusRegion.className = "flashes queue-status";
      statusRegion.setAttribute("role", "status");
      main.insertBefore(statusRegion, main.firstChild);
    }
    items().forEach(function (item, i) { item.dataset.order = String(i); });
    setUpSelectAll();

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches("[data-decide], [data-ban-form], [data-bulk]")) return;
      if (form.dataset.native === "1") return;
      if (form.hasAttribute("data-bulk") && !document.querySelector("[data-select]:checked")) {
        event.preventDefault();
        showError(form, "Choose at least one comment.");
        return;
      }
      event.preventDefault();
      send(form, event.submitter);
    });

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
      if (key === "j" || key === "k") {
        var list = items();
        var at = list.indexOf(document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-queue-item]") : null);
        if (at >= 0) current = at;
        focusItem(current + (key === "j" ? 1 : -1));
        event.preventDefault();
        return;
      }
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
        if (box) { box.checked = !box.checked; updateSelection(); event.preventDefault(); }
        return;
      }
      if (target) { target.click(); event.preventDefault(); }
    });
  });
})();
