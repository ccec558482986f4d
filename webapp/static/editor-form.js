// The article form with script: "Add another option" adds a box in place (without
// script the button posts the form back with one more box), and a changed draft is
// saved every few seconds to the form's autosave address (with the form's CSRF
// token), the result said next to the buttons. Without script: the Save buttons.
(function () {
  "use strict";
  var form = document.querySelector("form.article-form");
  if (!form) { return; }

  var more = form.querySelector('button[name="action"][value="more_options"]');
  if (more) {
    more.addEventListener("click", function (event) {
      var boxes = form.querySelectorAll(".option-field");
      var max = parseInt(more.getAttribute("data-max"), 10) || 10;
      if (!boxes.length || boxes.length >= max) { return; }
      event.preventDefault();
      var last = boxes[boxes.length - 1];
      var copy = last.cloneNode(true);
      var input = copy.querySelector("input");
      var label = copy.querySelector("label");
      var index = boxes.length;
      input.id = "poll_options-" + index;
      input.name = "poll_options-" + index;
      input.value = "";
      input.removeAttribute("autofocus");
      label.htmlFor = input.id;
      label.textContent = "Option " + (index + 1);
      last.parentNode.insertBefore(copy, last.nextSibling);
      input.focus();
      if (index + 1 >= max) { more.hidden = true; }
    });
  }

  var address = form.getAttribute("data-autosave-url");
  var status = form.querySelector(".autosave-status");
  if (!address || !window.fetch || !window.FormData) { return; }
  var seconds = parseInt(form.getAttribute("data-autosave-seconds"), 10) || 15;
  var changed = false;
  var sending = false;

  function say(message) { if (status) { status.textContent = message; } }

  form.addEventListener("input", function () { changed = true; });
  form.addEventListener("submit", function () { changed = false; });

  function save() {
    if (!changed || sending) { return; }
    sending = true;
    changed = false;
    var data = new FormData(form);
    data.delete("lead_image");  // the image goes with Save, not every few seconds
    data.delete("action");
    fetch(address, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return [response, body]; });
    }).then(function (pair) {
      var response = pair[0], body = pair[1];
      if (response.ok && body.saved) {
        say("Draft saved at " + body.saved_at + ".");
        if (body.autosave_url && body.autosave_url !== address) {
          // A new article now exists: the form edits it from here on.
          address = body.autosave_url;
          form.setAttribute("data-autosave-url", address);
          form.setAttribute("action", body.edit_url);
          if (window.history && history.replaceState) { history.replaceState(null, "", body.edit_url); }
        }
      } else {
        changed = true;
        say("Draft not saved yet: " + (body.message || "please check the form") + ".");
      }
    }).catch(function () {
      changed = true;
      say("Draft not saved: no connection. It will be tried again.");
    }).then(function () { sending = false; });
  }

  setInterval(save, seconds * 1000);
  form.addEventListener("pulse:autosave", save);  // lets a test save at once
})();
