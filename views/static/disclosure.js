// Disclosures that are a side column on wide screens: a <details
// data-open-wide> is opened while the window is wide and closed again when
// it becomes narrow. Without JavaScript it is an ordinary <details>.
(function () {
  "use strict";
  var panels = document.querySelectorAll("details[data-open-wide]");
  if (!panels.length || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 52.01rem)");
  function apply() {
    panels.forEach(function (d) { d.open = wide.matches; });
  }
  apply();
  if (wide.addEventListener) wide.addEventListener("change", apply);
})();
