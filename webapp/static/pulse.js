// Progressive enhancement: every form here works without this file. With it,
// forms marked data-fragment="NAME" post in place and swap in the server's HTML.
(function () {
  "use strict";

  // A page from a shared cache carries no CSRF token (it is the same for every
  // reader): its plain forms are checked by origin instead. The script asks for a
  // token first (GET /api/v1/csrf, named by the page; it starts a session), so its
  // posts are checked as a signed-in reader's are, whatever cookies the browser holds
  // by then; the token goes into the form too, for the plain round trip it falls
  // back to.
  function withToken(form, data) {
    var token = data.get("csrf_token");
    if (token) return Promise.resolve(token);
    var url = document.body.dataset.csrfUrl || "/api/v1/csrf";
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("no CSRF token");
      return response.json();
    }).then(function (body) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrf_token";
      field.value = body.csrf_token;
      form.appendChild(field);
      data.append("csrf_token", body.csrf_token);
      return body.csrf_token;
    });
  }

  function enhance(root) {
    root.querySelectorAll("form[data-fragment]").forEach(function (form) {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var target = document.getElementById(form.dataset.target);
        var data = new FormData(form);
        if (event.submitter && event.submitter.name) {
          data.append(event.submitter.name, event.submitter.value);
        }
        form.setAttribute("aria-busy", "true");
        withToken(form, data).then(function (token) {
          return fetch(form.action, {
            method: "POST",
            body: data,
            credentials: "same-origin",
            headers: {
              "X-Pulse-Fragment": form.dataset.fragment,
              "X-CSRFToken": token,
              // the article page's token: this vote comes from a reader who loaded it
              "X-Pulse-Page": form.dataset.pageToken || ""
            }
          });
        }).then(function (response) {
          return response.text().then(function (html) { return { response: response, html: html }; });
        }).then(function (result) {
          var type = result.response.headers.get("Content-Type") || "";
          if (!result.response.ok || type.indexOf("text/html") !== 0 || !target) {
            form.submit();  // fall back to the plain round trip, which explains errors
            return;
          }
          var holder = document.createElement("div");
          holder.innerHTML = result.html;
          var replacement = holder.firstElementChild;
          target.replaceWith(replacement);
          enhance(replacement);
          var focusable = replacement.querySelector("[data-focus-after-update]") || replacement;
          if (!focusable.hasAttribute("tabindex")) focusable.setAttribute("tabindex", "-1");
          focusable.focus();
        }).catch(function () {
          form.submit();
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
