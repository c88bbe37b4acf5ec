// Live progress of an import: the page refreshes itself every few seconds without JavaScript; with it, the bar is
// updated from the organizers' API every second instead, and the page reloads once the import has ended.
(function () {
  var bar = document.getElementById("import-progress");
  if (!bar || bar.dataset.live !== "1" || !window.fetch) return;
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) refresh.remove();
  var text = document.getElementById("import-progress-text");
  function tick() {
    fetch(bar.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        var imp = body.signature_import, p = imp.progress;
        bar.max = p.rows_total;
        bar.value = p.rows_done;
        text.textContent = p.rows_done + " of " + p.rows_total + " rows (" + p.percent + "%)" +
          (p.rows_per_second ? ", " + p.rows_per_second + " rows/s" : "") +
          (p.seconds_left !== null && imp.status === "running" ? ", about " + p.seconds_left + " s left" : "") + ".";
        if (imp.status === "queued" || imp.status === "running") setTimeout(tick, 1000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
