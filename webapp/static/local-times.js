// Readers' times in their own time zone. The server renders every time in UTC as
// <time class="js-local-time" datetime="2026-12-04T07:26:09.123Z">4 December 2026, 07:26 UTC</time>
// (the same page for every reader, so a shared cache may keep it); this script, loaded
// with `defer`, rewrites the text as the reader's local time with a relative phrase
// ("4 Dec 2026, 08:26 · 3 minutes ago") and keeps the UTC text as the element's title.
// Without script the UTC text stays, which is correct too. No dependencies.
(function () {
  "use strict";

  var UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1]
  ];

  var relativeFormat = null;
  if (typeof Intl !== "undefined" && Intl.RelativeTimeFormat) {
    relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  }

  function relativePhrase(date, now) {
    var seconds = Math.round((date.getTime() - now.getTime()) / 1000);
    var size = Math.abs(seconds);
    if (size < 45) {
      return seconds > 0 ? "in a moment" : "just now";
    }
    for (var i = 0; i < UNITS.length; i++) {
      var unit = UNITS[i][0];
      var length = UNITS[i][1];
      if (size >= length || unit === "second") {
        var amount = Math.round(seconds / length);
        if (relativeFormat) {
          return relativeFormat.format(amount, unit);
        }
        var count = Math.abs(amount);
        var words = count + " " + unit + (count === 1 ? "" : "s");
        return amount < 0 ? words + " ago" : "in " + words;
      }
    }
    return "";
  }

  function localText(date) {
    var options = {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit"
    };
    try {
      return date.toLocaleString(undefined, options);
    } catch (error) {
      return date.toString();
    }
  }

  function localise(element, now) {
    var stamp = element.getAttribute("datetime");
    if (!stamp) {
      return;
    }
    var date = new Date(stamp);
    if (isNaN(date.getTime())) {
      return;
    }
    if (!element.hasAttribute("data-utc-text")) {
      element.setAttribute("data-utc-text", element.textContent);
      element.setAttribute("title", element.textContent.trim());
    }
    element.textContent = localText(date) + " · " + relativePhrase(date, now);
  }

  function localiseAll(root) {
    var now = new Date();
    var times = (root || document).querySelectorAll("time.js-local-time[datetime]");
    for (var i = 0; i < times.length; i++) {
      localise(times[i], now);
    }
  }

  // Exposed so that scripts adding times to the page (new comments) can localise them.
  window.pulseLocalTimes = localiseAll;

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { localiseAll(document); });
  } else {
    localiseAll(document);
  }
  // Relative phrases age: refresh them each minute while the page is open.
  window.setInterval(function () { localiseAll(document); }, 60 * 1000);
  // Times in parts of the page replaced later (pulse.js swaps fragments) are
  // localised as they arrive.
  if (typeof MutationObserver !== "undefined") {
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        var added = records[i].addedNodes;
        for (var j = 0; j < added.length; j++) {
          var node = added[j];
          if (node.nodeType !== 1) {
            continue;
          }
          if (node.matches && node.matches("time.js-local-time[datetime]") && !node.hasAttribute("data-utc-text")) {
            localise(node, new Date());
          } else if (node.querySelectorAll) {
            var inner = node.querySelectorAll("time.js-local-time[datetime]:not([data-utc-text])");
            for (var k = 0; k < inner.length; k++) {
              localise(inner[k], new Date());
            }
          }
        }
      }
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
})();
