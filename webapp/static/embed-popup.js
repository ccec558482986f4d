// The sign-in pop-up's last page (templates/embed/popup.html): hands the one-time code
// to the frame that opened this window, addressed to Pulse's own origin (the frame's),
// so no other page can receive it, then closes. No dependencies.
(function () {
  "use strict";

  var page = document.getElementById("embed-popup");
  var code = page && page.getAttribute("data-code");
  if (!code || !window.opener) return; // the text on the page says what to do
  window.opener.postMessage({ type: "pulse:code", code: code }, window.location.origin);
  window.close();
})();
