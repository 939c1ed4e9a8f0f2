// Live agenda page: reload the program every data-refresh seconds without a full page load.
// The page works without this script; it is served from the bot itself (CSP: script-src 'self').
"use strict";
(function () {
  var main = document.getElementById("agenda");
  if (!main) return;
  var seconds = parseInt(main.getAttribute("data-refresh") || "30", 10);
  var refreshed = 0;
  main.setAttribute("data-live", "on");
  function refresh() {
    fetch(window.location.href, { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("agenda");
        if (!fresh) return;
        var current = document.getElementById("agenda");
        refreshed += 1;
        fresh.setAttribute("data-live", "on");
        fresh.setAttribute("data-refreshed", String(refreshed));
        current.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () { /* keep what is shown; try again at the next tick */ })
      .finally(function () { window.setTimeout(refresh, seconds * 1000); });
  }
  window.setTimeout(refresh, seconds * 1000);
})();
