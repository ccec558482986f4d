// Progressive enhancement: every form here works without this file. With it,
// forms marked data-fragment="NAME" post in place and swap in the server's HTML.
// The comments section answers every outcome in place (published, held, refused with
// the reason, rate-limited with when to retry) and keeps what the reader typed; a
// network failure is said next to the form, nothing is sent twice (the button is
// disabled while sending and the form's idempotency key makes a retry store one
// comment), and focus stays on what was acted on.
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

  function setBusy(form, busy) {
    if (busy) form.setAttribute("aria-busy", "true"); else form.removeAttribute("aria-busy");
    form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
      button.disabled = busy;
    });
  }

  // Said next to the form when no answer came: the text stays, the reader retries.
  function sayNotSent(form) {
    var note = form.querySelector(".js-not-sent");
    if (!note) {
      note = document.createElement("p");
      note.className = "error js-not-sent";
      note.setAttribute("role", "alert");
      note.tabIndex = -1;
      var button = form.querySelector("button[type=submit], button:not([type])");
      form.insertBefore(note, button || null);
    }
    note.textContent = "Not sent: the connection failed. What you wrote is kept; please try again.";
    note.focus();
  }

  function focusAfterUpdate(root) {
    var focusable = root.querySelector("[data-focus-first]") ||
      root.querySelector("[data-focus-after-update]") || root;
    if (!focusable.hasAttribute("tabindex") && !/^(TEXTAREA|INPUT|BUTTON|A|SELECT)$/.test(focusable.tagName)) {
      focusable.setAttribute("tabindex", "-1");
    }
    focusable.focus();
    if (focusable.scrollIntoView) focusable.scrollIntoView({ block: "center" });
  }

  function expireUndo(root) {
    root.querySelectorAll("[data-undo-seconds]").forEach(function (button) {
      var seconds = parseInt(button.getAttribute("data-undo-seconds"), 10) || 0;
      window.setTimeout(function () {
        var form = button.form;
        if (form && form.parentNode) {
          var gone = document.createElement("p");
          gone.className = "muted";
          gone.textContent = "The deletion can no longer be undone.";
          var hadFocus = form.contains(document.activeElement);
          form.replaceWith(gone);
          if (hadFocus) {
            var comment = gone.closest("article");
            if (comment) comment.focus();
          }
        }
      }, seconds * 1000);
    });
  }

  function swapIn(target, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var replacement = holder.firstElementChild;
    if (!replacement) return null;
    target.replaceWith(replacement);
    enhance(replacement);
    return replacement;
  }

  function enhanceForm(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    var inPlace = form.dataset.fragment === "comments";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.getAttribute("aria-busy") === "true") return;  // already on its way
      var target = document.getElementById(form.dataset.target);
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) {
        data.append(event.submitter.name, event.submitter.value);
      }
      setBusy(form, true);
      if (inPlace) {
        // The last answer's message goes: the next one replaces it.
        form.querySelectorAll(".error").forEach(function (old) { old.remove(); });
      }
      withToken(form, data).then(function (token) {
        var headers = {
          "X-Pulse-Fragment": form.dataset.fragment,
          "X-CSRFToken": token,
          // the article page's token: this vote comes from a reader who loaded it
          "X-Pulse-Page": form.dataset.pageToken || ""
        };
        var key = data.get("idempotency_key");
        if (key) headers["Idempotency-Key"] = key;
        return fetch(form.action, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: headers
        });
      }).then(function (response) {
        return response.text().then(function (html) { return { response: response, html: html }; });
      }).then(function (result) {
        var type = result.response.headers.get("Content-Type") || "";
        var isHtml = type.indexOf("text/html") === 0;
        if (inPlace) {
          // Every answer of the comment routes is the section, saying what happened.
          if (!isHtml || !target || result.html.indexOf('id="comments"') < 0) {
            setBusy(form, false);
            sayNotSent(form);
            return;
          }
          var section = swapIn(target, result.html);
          if (section) focusAfterUpdate(section);
          return;
        }
        if (!result.response.ok || !isHtml || !target) {
          form.submit();  // fall back to the plain round trip, which explains errors
          return;
        }
        var replacement = swapIn(target, result.html);
        if (replacement) focusAfterUpdate(replacement);
      }).catch(function () {
        if (inPlace) {
          setBusy(form, false);
          sayNotSent(form);
        } else {
          form.submit();
        }
      });
    });
  }

  // "More comments": the next page's comments appended under these, the link moved on.
  function enhanceMore(root) {
    root.querySelectorAll("a[data-more-comments]").forEach(function (link) {
      if (link.dataset.enhanced) return;
      link.dataset.enhanced = "1";
      link.addEventListener("click", function (event) {
        var list = document.getElementById("comment-list");
        if (!list || !window.DOMParser) return;  // the link works as a link
        event.preventDefault();
        if (link.getAttribute("aria-busy") === "true") return;
        link.setAttribute("aria-busy", "true");
        fetch(link.href, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) throw new Error("no page");
          return response.text();
        }).then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var items = page.querySelectorAll("#comment-list > li");
          var first = null;
          items.forEach(function (item) {
            var adopted = document.importNode(item, true);
            if (document.getElementById(adopted.querySelector("article") ? adopted.querySelector("article").id : "")) return;
            list.appendChild(adopted);
            if (!first) first = adopted;
          });
          var more = link.closest(".more");
          var next = page.querySelector("a[data-more-comments]");
          if (next && more) {
            link.href = next.getAttribute("href");
            link.removeAttribute("aria-busy");
          } else if (more) {
            more.remove();
          }
          enhance(list);
          if (first) {
            var article = first.querySelector("article");
            if (article) article.focus();
          }
        }).catch(function () {
          window.location.href = link.href;
        });
      });
    });
  }

  function enhance(root) {
    root.querySelectorAll("form[data-fragment]").forEach(enhanceForm);
    enhanceMore(root);
    expireUndo(root);
  }

  // A link to a comment that is not on this page (#comment-59 from a later page):
  // its permalink opens the page of the thread that holds it.
  function findLinkedComment() {
    var match = /^#comment-(\d+)$/.exec(window.location.hash);
    if (match && !document.getElementById("comment-" + match[1]) && document.getElementById("comments")) {
      window.location.replace("/comments/" + match[1]);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    findLinkedComment();
  });
})();
