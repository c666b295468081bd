// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // The email's link carries the manage token after "#": post it once, then drop it from the address bar.
  var exchange = document.querySelector("form[data-token-exchange]");
  var match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (exchange && match) {
    exchange.elements.token.value = decodeURIComponent(match[1]);
    history.replaceState(null, "", location.pathname + location.search);
    exchange.submit();
  }

  // A double click sends a form once (the server's Idempotency-Key covers the rest).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });

  // Station search: suggestions from GET /stations?q= into the field's datalist; a chosen name sets the id.
  var station = document.querySelector("input[data-station-search]");
  if (!station) return;
  var list = document.getElementById(station.getAttribute("list"));
  var hidden = document.getElementById("station-id");
  var timer = null;
  var found = {};
  station.addEventListener("input", function () {
    hidden.value = found[station.value] || "";
    clearTimeout(timer);
    if (hidden.value || station.value.trim().length < 2) return;
    timer = setTimeout(function () {
      fetch("/stations?q=" + encodeURIComponent(station.value.trim()))
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (stations) {
          list.textContent = "";
          stations.forEach(function (s) {
            found[s.label] = s.id;
            var option = document.createElement("option");
            option.value = s.label;
            list.appendChild(option);
          });
          hidden.value = found[station.value] || "";
          station.dispatchEvent(new Event("stations-loaded"));
        });
    }, 200);
  });
})();
