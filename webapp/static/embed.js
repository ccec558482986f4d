// Pulse on a host page: every <div class="pulse-thread" data-pulse-site=".."
// data-pulse-thread=".."> becomes an iframe with the poll and the conversation, made
// when it scrolls near; every <span data-pulse-count="<thread>" data-pulse-site="..">
// shows that thread's number of comments. No dependencies, no framework.
//
// What the page and the frame say to each other is small on purpose: the frame posts
// only its height, to the host origin Pulse checked for the site; this script listens
// only to its own iframes' windows, from Pulse's origin (the one this script came
// from), and reads only {type: "pulse:height", height: <number>}.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || window.__pulseEmbed) return;
  window.__pulseEmbed = true;
  var pulseOrigin = new URL(script.src).origin;
  var frames = [];

  function attribute(element, name) {
    var value = element.getAttribute("data-pulse-" + name);
    return value ? value.trim() : "";
  }

  function scheme(element) {
    var asked = attribute(element, "scheme");
    if (asked === "light" || asked === "dark") return asked;
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    return dark ? "dark" : "light";
  }

  function canonicalUrl() {
    var link = document.querySelector('link[rel="canonical"]');
    return link && link.href ? link.href : window.location.origin + window.location.pathname;
  }

  function frameAddress(element) {
    var query = new URLSearchParams();
    query.set("site", attribute(element, "site"));
    if (attribute(element, "thread")) query.set("thread", attribute(element, "thread"));
    query.set("url", attribute(element, "url") || canonicalUrl());
    query.set("title", attribute(element, "title") || document.title);
    query.set("origin", window.location.origin);
    query.set("scheme", scheme(element));
    // The poll the host's server described and signed (not secret: the frame shows it).
    if (attribute(element, "poll")) query.set("poll", attribute(element, "poll"));
    var address = pulseOrigin + "/embed/v1/thread?" + query.toString();
    // The host's sign-in token travels in the fragment: never sent to any server, nor
    // in a Referer; the frame posts it to Pulse and drops it from its address.
    var token = attribute(element, "token");
    return token ? address + "#pulse-token=" + encodeURIComponent(token) : address;
  }

  function mount(element) {
    if (element.getAttribute("data-pulse-mounted")) return;
    element.setAttribute("data-pulse-mounted", "1");
    var frame = document.createElement("iframe");
    frame.src = frameAddress(element);
    frame.title = attribute(element, "frame-title") || "Poll and comments";
    frame.setAttribute("loading", "lazy");
    frame.style.cssText = "display:block;width:100%;height:360px;border:0;";
    element.appendChild(frame);
    frames.push(frame);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== pulseOrigin) return;
    var data = event.data;
    if (!data || data.type !== "pulse:height") return;
    var height = data.height;
    if (typeof height !== "number" || !isFinite(height)) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.max(60, Math.min(Math.ceil(height), 100000)) + "px";
        return;
      }
    }
  });

  function mountAll() {
    var threads = document.querySelectorAll(".pulse-thread[data-pulse-site]");
    if (!("IntersectionObserver" in window)) {
      for (var i = 0; i < threads.length; i++) mount(threads[i]);
      return;
    }
    // Made a little before it scrolls into view, so it is ready when the reader is.
    var observer = new IntersectionObserver(
      function (entries) {
        for (var j = 0; j < entries.length; j++) {
          if (entries[j].isIntersecting) {
            observer.unobserve(entries[j].target);
            mount(entries[j].target);
          }
        }
      },
      { rootMargin: "800px 0px" }
    );
    for (var k = 0; k < threads.length; k++) observer.observe(threads[k]);
  }

  // --- comment counts for lists of articles: one request per site ---
  function fillCounts() {
    var spans = document.querySelectorAll("[data-pulse-count][data-pulse-site]");
    var bySite = {};
    for (var i = 0; i < spans.length; i++) {
      var site = attribute(spans[i], "site");
      (bySite[site] = bySite[site] || []).push(spans[i]);
    }
    Object.keys(bySite).forEach(function (site) {
      var wanted = bySite[site];
      var keys = [];
      wanted.forEach(function (span) {
        var key = attribute(span, "count");
        if (keys.indexOf(key) < 0) keys.push(key);
      });
      var query = new URLSearchParams({ site: site, threads: keys.join(",") });
      fetch(pulseOrigin + "/api/v1/embed/counts?" + query.toString(), {
        credentials: "omit",
        mode: "cors"
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (body) {
          var counts = body && body.counts;
          if (!counts) return;
          wanted.forEach(function (span) {
            var count = counts[attribute(span, "count")];
            if (typeof count !== "number") return;
            span.textContent = count + (count === 1 ? " comment" : " comments");
          });
        })
        .catch(function () {
          // The text the page put there stays (say, "Comments").
        });
    });
  }

  function start() {
    mountAll();
    fillCounts();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
