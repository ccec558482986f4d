// The article's "Copy link" button: shown only where script runs (the share links
// above it work without), it copies the article's canonical address and says so.
(function () {
  "use strict";
  document.querySelectorAll(".share-copy").forEach(function (button) {
    var said = button.parentNode.querySelector(".share-copied");
    button.hidden = false;
    button.addEventListener("click", function () {
      var address = button.getAttribute("data-copy-url");
      function done(message) {
        if (said) { said.textContent = message; }
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(address).then(
          function () { done("Link copied."); },
          function () { done("Copy failed: the address is " + address); }
        );
      } else {
        done("Copy this address: " + address);
      }
    });
  });
})();
