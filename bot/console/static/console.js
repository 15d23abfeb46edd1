// Live updates without reloading: elements with data-poll are refreshed from that URL.
// The server renders (and escapes) the HTML; this script only swaps it in.
(function () {
  "use strict";
  var baseTitle = document.title;

  function poll(el) {
    var url = el.getAttribute("data-poll");
    var every = parseInt(el.getAttribute("data-interval") || "3000", 10);
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.status === 401) { window.location = "/console/login"; return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== el.innerHTML) {
            var atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 20;
            el.innerHTML = html;
            if (el.getAttribute("data-scroll") === "bottom" && atBottom) { el.scrollTop = el.scrollHeight; }
          }
          alertTitle();
        })
        .catch(function () {})
        .then(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }

  function alertTitle() {
    var alert = document.getElementById("emergency-alert");
    document.title = alert ? "(!) EMERGENCY — " + baseTitle : baseTitle;
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
    var transcript = document.getElementById("transcript");
    if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
    var canned = document.getElementById("canned");
    if (canned) {
      canned.addEventListener("change", function () {
        var target = document.getElementById(canned.getAttribute("data-target"));
        if (target && canned.value) { target.value = canned.value; target.focus(); }
      });
    }
    alertTitle();
  });
})();
