// incasso console: refreshes the campaign's figures every second from GET /v1/campaigns/{id}
// (the session cookie is accepted there), and asks before the forms marked data-confirm.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  var root = document.querySelector("[data-poll]");
  if (!root) return;
  var url = root.getAttribute("data-poll"), status = root.getAttribute("data-status");
  var done = { COMPLETED: 1, CANCELLED: 1, WITHDRAWN: 1 };
  function dots(n) { return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function euro(c) {
    var s = c < 0 ? "-" : "", a = Math.abs(c);
    return s + dots(Math.floor(a / 100)) + "," + String(a % 100).padStart(2, "0");
  }
  function get(o, path) { return path.split(".").reduce(function (v, k) { return v == null ? v : v[k]; }, o); }
  function show(p) {
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var v = get(p, el.getAttribute("data-field")) || 0;
      el.textContent = el.hasAttribute("data-euro") ? euro(v) : dots(v);
    });
    root.querySelectorAll("[data-pct]").forEach(function (el) {
      el.textContent = p.rows > 0 ? Math.min(100, Math.floor(get(p, el.getAttribute("data-pct")) * 100 / p.rows)) : 0;
    });
    root.querySelectorAll("progress[data-value]").forEach(function (el) {
      el.max = Math.max(p.rows, 1);
      el.value = get(p, el.getAttribute("data-value")) || 0;
    });
  }
  function next() { setTimeout(poll, done[status] ? 10000 : 1000); }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/console/login"); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (p) {
        if (p && p.status !== status) { window.location.reload(); return; } // new buttons, chart
        if (p) show(p);
        next();
      }, next);
  }
  next();
})();
