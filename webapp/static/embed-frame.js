// Inside the frame (templates/embed/): tells the host page how tall the frame is, signs
// in with the host page's token or with the pop-up's code, and opens the pop-up.
// The host page's origin comes from the server (data-host-origin), which checked it
// against the site's registered origins: the height goes to that origin and no other,
// and nothing else of the frame is ever posted out. No dependencies.
(function () {
  "use strict";

  var body = document.body;
  var hostOrigin = body.getAttribute("data-host-origin");
  var framed = window.parent && window.parent !== window;

  // --- the height, on load and whenever the content changes size ---
  var lastHeight = 0;
  function postHeight() {
    if (!framed || !hostOrigin) return;
    var height = Math.ceil(body.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
    window.parent.postMessage({ type: "pulse:height", height: height }, hostOrigin);
  }
  postHeight();
  window.addEventListener("load", postHeight);
  if (window.ResizeObserver) {
    new ResizeObserver(postHeight).observe(body);
  } else {
    window.addEventListener("resize", postHeight);
  }
  // <details> opening (reply, report, edit) changes the size too: ResizeObserver sees
  // it; the toggle event covers browsers without one.
  document.addEventListener("toggle", postHeight, true);

  // Links in comments lead away from the discussion: a new tab, never the frame.
  var outside = document.querySelectorAll(".comment-body a[href], .story-body a[href]");
  for (var i = 0; i < outside.length; i++) {
    outside[i].setAttribute("target", "_blank");
    outside[i].setAttribute("rel", "noopener noreferrer nofollow ugc");
  }

  // --- the host page's sign-in token (#pulse-token=..., never sent in the URL) ---
  var hash = window.location.hash;
  if (hash.indexOf("#pulse-token=") === 0) {
    var token = decodeURIComponent(hash.slice("#pulse-token=".length));
    // Gone from the address at once: not in the history, not in a reload.
    history.replaceState(null, "", window.location.pathname + window.location.search);
    var ssoForm = document.getElementById("embed-sso");
    if (ssoForm && token) {
      ssoForm.elements.token.value = token;
      ssoForm.submit();
      return;
    }
  }

  // --- the pop-up: Pulse's own sign-in, which hands back a one-time code ---
  var codeForm = document.getElementById("embed-code");
  var popupUrl = codeForm && codeForm.getAttribute("data-popup-url");
  var popup = null;

  window.addEventListener("message", function (event) {
    // Only the pop-up this frame opened, on Pulse's own origin, with a code.
    if (!popup || event.source !== popup || event.origin !== window.location.origin) return;
    var data = event.data;
    if (!data || data.type !== "pulse:code" || typeof data.code !== "string") return;
    codeForm.elements.code.value = data.code;
    codeForm.submit();
  });

  var links = document.querySelectorAll("[data-pulse-sign-in]");
  for (var j = 0; j < links.length; j++) {
    links[j].addEventListener("click", function (event) {
      if (!popupUrl) return;
      var opened = window.open(popupUrl, "pulse-sign-in", "popup,width=520,height=680");
      if (!opened) return; // blocked: the link's own page says what to do
      event.preventDefault();
      popup = opened;
      popup.focus();
    });
  }
})();
