// Hansewiki editor: live preview while typing. Progressive enhancement:
// without JavaScript the "Vorschau anzeigen" button renders the preview on
// the server. The preview HTML comes from the server's sanitizing pipeline.
// The preview is not a live region: reading the whole article aloud after
// every pause in typing would drown what the person is writing.
(function () {
  "use strict";
  var form = document.querySelector("form.editor");
  if (!form || !window.fetch) return;
  var body = form.querySelector("#body");
  var out = document.getElementById("preview");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var seq = 0;
  function refresh() {
    var mine = ++seq;
    out.setAttribute("aria-busy", "true");
    var data = new URLSearchParams();
    data.set("city", form.dataset.city);
    data.set("body", body.value);
    // Link titles show only where the chosen visibility allows.
    var vis = form.querySelector("input[name=visibility]:checked");
    if (vis) data.set("visibility", vis.value);
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString()
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      if (mine === seq) out.innerHTML = html;
    }).catch(function () { /* keep the last preview */ }).then(function () {
      if (mine === seq) out.removeAttribute("aria-busy");
    });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  form.addEventListener("change", function (e) {
    if (e.target.name === "visibility") refresh();
  });
  if (body.value && !out.querySelector(":not(.empty)")) refresh();
})();
