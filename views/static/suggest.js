// Hansewiki search suggestions: titles as you type, offered through a
// native <datalist>, which browsers and screen readers already know how to
// present. Without JavaScript the search box is a plain form.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("input[data-suggest]");
  if (!boxes.length || !window.fetch) return;
  boxes.forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var timer = null;
    var seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) return;
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            if (mine !== seq) return;
            list.textContent = "";
            items.forEach(function (it) {
              var o = document.createElement("option");
              o.value = it.title;
              list.appendChild(o);
            });
          }).catch(function () {});
      }, 200);
    });
  });
})();
